import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attemptNote, errorKind, firstStackFrame, internalErrorMessage, isTransient, withNote } from '../lib/error-kind';
import { InvalidInputError, RetrainError, TransientError } from '../lib/errors';

/** What a function throws (it must throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** A connection refused by the system: nothing listens on port 1. */
function refusedConnection(): Promise<Error> {
  return new Promise((resolve) => connect({ host: '127.0.0.1', port: 1 }).on('error', resolve));
}

function systemError(code: string): Error {
  return Object.assign(new Error(`${code}: something`), { code, errno: -1, syscall: 'read' });
}

describe('errorKind: programming errors are bugs in Retrain', () => {
  it('classifies the built-in errors that mistakes in code throw as internal', () => {
    const overflow = thrown(() => [].push(...(new Array(5_000_000).fill(0) as never[])));
    expect(overflow).toBeInstanceOf(RangeError);
    expect(errorKind(overflow)).toBe('internal');
    expect(errorKind(thrown(() => (null as unknown as { a: number }).a))).toBe('internal'); // TypeError
    expect(errorKind(thrown(() => JSON.parse('{')))).toBe('internal'); // SyntaxError
    expect(errorKind(thrown(() => decodeURIComponent('%')))).toBe('internal'); // URIError
    expect(errorKind(new ReferenceError('x is not defined'))).toBe('internal');
    expect(errorKind(new EvalError('no'))).toBe('internal');
    // Node's argument checks are TypeErrors and RangeErrors with an ERR_ code: our mistakes too.
    expect(errorKind(thrown(() => Buffer.from(undefined as unknown as string)))).toBe('internal');
    expect(errorKind(thrown(() => Buffer.alloc(-1)))).toBe('internal');
  });

  it('says what was thrown and where, and that it is not retried', () => {
    const err = thrown(() => [].push(...(new Array(5_000_000).fill(0) as never[]))) as Error;
    const message = internalErrorMessage(err);
    expect(message).toMatch(/^internal error \(a bug in Retrain, not retried\): RangeError: Maximum call stack size exceeded at /);
    expect(message).toContain('error-kind.test.ts');
    expect(firstStackFrame('TypeError: x\n    at f (/app/lib/a.ts:1:2)\n    at g (/app/lib/b.ts:3:4)')).toBe('f (/app/lib/a.ts:1:2)');
    expect(firstStackFrame(undefined)).toBeNull();
    expect(internalErrorMessage(Object.assign(new TypeError('x'), { stack: undefined }))).toBe(
      'internal error (a bug in Retrain, not retried): TypeError: x',
    );
  });
});

describe('errorKind: what can pass with time stays retryable', () => {
  it('treats a fetch that could not connect as transient, although it is a TypeError', async () => {
    const err = await fetch('http://127.0.0.1:1/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(errorKind(err)).toBe('transient');
    // The same wrapping with another network cause, and undici's "terminated" mid-body.
    expect(errorKind(new TypeError('fetch failed', { cause: systemError('ECONNRESET') }))).toBe('transient');
    expect(
      errorKind(new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) })),
    ).toBe('transient');
  });

  it('treats system errors of a busy or unreachable peer, disk or process as transient', async () => {
    expect(errorKind(await refusedConnection())).toBe('transient');
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE', 'ENOSPC', 'EMFILE', 'EBUSY']) {
      expect(errorKind(systemError(code))).toBe('transient');
    }
    // Several addresses tried, all refused.
    expect(errorKind(new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')]))).toBe('transient');
  });

  it('treats AWS SDK throttling, timeouts and 5xx as transient', () => {
    const aws = (name: string, status: number, extra: object = {}) =>
      Object.assign(new Error(name), {
        name,
        $fault: status >= 500 ? 'server' : 'client',
        $metadata: { httpStatusCode: status },
        ...extra,
      });
    expect(errorKind(aws('InternalError', 500))).toBe('transient');
    expect(errorKind(aws('SlowDown', 503))).toBe('transient');
    expect(errorKind(aws('ThrottlingException', 400))).toBe('transient');
    expect(errorKind(aws('Whatever', 429))).toBe('transient');
    expect(errorKind(aws('Whatever', 400, { $retryable: { throttling: false } }))).toBe('transient');
    expect(errorKind(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe('transient');
    // A deserialisation TypeError from the SDK carries the response: it came from I/O, so it is
    // no bug of ours (retried as any other error), and a 5xx one is transient.
    const parse = (status: number) =>
      Object.assign(new TypeError("Cannot read properties of undefined (reading 'x')"), { $metadata: { httpStatusCode: status } });
    expect(errorKind(parse(400))).toBe('other');
    expect(errorKind(parse(502))).toBe('transient');
  });

  it('treats aborts, timeouts and our own TransientError as transient', () => {
    expect(errorKind(AbortSignal.abort().reason)).toBe('transient');
    expect(errorKind(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe('transient');
    expect(errorKind(new TransientError('alert webhook answered 503'))).toBe('transient');
    expect(isTransient(new Error('wrapper', { cause: new TransientError('inner') }))).toBe(true);
  });

  it('leaves other errors as they were (retried), and domain errors to themselves', async () => {
    expect(errorKind(new Error('snapshot is missing from the store'))).toBe('other');
    expect(errorKind(await readFile(join('/nonexistent', 'x')).catch((e: unknown) => e))).toBe('other'); // ENOENT
    expect(errorKind('a string')).toBe('other');
    expect(errorKind(new InvalidInputError('bad'))).toBe('domain');
    expect(errorKind(new RetrainError('NotFound', 'gone'))).toBe('domain');
    // A TypeError caused by a system error came from I/O, not from a mistake in our code.
    expect(errorKind(new TypeError('read failed', { cause: systemError('ENOENT') }))).toBe('other');
  });

  it('does not loop on a cause cycle', () => {
    const a = new TypeError('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(errorKind(a)).toBe('internal');
  });
});

describe('attemptNote', () => {
  const at = (number: number, max: number | null, policyKnown = true) => ({
    number,
    max,
    last: max !== null && number >= max,
    policyKnown,
  });

  it('says which attempt failed and whether Temporal retries it', () => {
    expect(attemptNote(at(1, 3), true)).toBe('attempt 1 of 3: Temporal retries it');
    expect(attemptNote(at(3, 3), true)).toBe('attempt 3 of 3, the last: not retried');
    expect(attemptNote(at(1, 3), false)).toBe('attempt 1 of 3, not retried');
    expect(attemptNote(at(4, null), true)).toBe('attempt 4: Temporal retries it (no attempt limit)');
    expect(attemptNote(at(2, null, false), true)).toBe('attempt 2: Temporal retries it unless this was the last attempt');
  });

  it('goes at the end of the first line of a message', () => {
    expect(withNote('training exited with code 1', 'n')).toBe('training exited with code 1 (n)');
    expect(withNote('training exited with code 1\nTraceback…\nValueError', 'n')).toBe(
      'training exited with code 1 (n)\nTraceback…\nValueError',
    );
  });
});
