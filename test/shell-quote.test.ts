import { describe, expect, it } from 'vitest';
import { shellQuote } from '../lib/shell-quote';

describe('shellQuote', () => {
  it('leaves plain words alone', () => {
    for (const word of ['churn', 'house-prices', 'data/reference.csv', 'alice@example.com', 'v1a2b3c4d5e6f', '/tmp/a_b.csv'])
      expect(shellQuote(word)).toBe(word);
  });

  it('single-quotes anything a shell would act on, so the suggested command runs nothing', () => {
    expect(shellQuote('$(touch /tmp/pwned)')).toBe("'$(touch /tmp/pwned)'");
    expect(shellQuote('`id`')).toBe("'`id`'");
    expect(shellQuote('a b; rm -rf ~')).toBe("'a b; rm -rf ~'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });
});
