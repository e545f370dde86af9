/**
 * Compile-time checks that an API schema and the TypeScript type it documents agree. Nothing
 * here runs: a mismatch is a `tsc` error (TS2344) at the check, which names both types.
 *
 *     type _RunStatus = Assert<Equals<z.infer<typeof runStatusSchema>, RunStatus>>;
 *
 * (A single generic `AssertEqual<A, B>` cannot fail by itself: TypeScript checks a constraint
 * where the type is written with concrete types, so the check is `Assert<…>` around the test.)
 */

/**
 * True when A and B are the same type (TypeScript's identity relation, not mutual
 * assignability: `a?: string` differs from `a: string | undefined`, `any` differs from
 * everything else), false otherwise.
 */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** True when every A is a B (one direction: for fields the API documents more loosely than the code's type). */
export type Extends<A, B> = [A] extends [B] ? true : false;

/** Compiles only when T is `true`: `Assert<Equals<A, B>>`, `Assert<Extends<A, B>>`. */
export type Assert<T extends true> = T;
