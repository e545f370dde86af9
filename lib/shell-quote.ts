/**
 * Text as one shell word, for commands a message suggests: left alone when it has nothing a
 * shell would act on (`churn`, `data/ref.csv`), else single-quoted (`'$(touch x)'`).
 */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
