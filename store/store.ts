/**
 * Where every artefact lives: dataset snapshots, models, the registry, the audit log,
 * prediction logs and reports. Keys are `/`-separated, content-addressed or derived from ids,
 * so writing the same thing twice is harmless. Two backends implement it: a local directory
 * (the default) and S3.
 */
export interface Store {
  /** Where the store is, for people (a directory or an s3:// URL). */
  readonly location: string;
  /** The object's bytes, or null when it does not exist. */
  get(key: string): Promise<Buffer | null>;
  /** The object with an opaque version tag for `putIfMatch`, or null. */
  getWithTag(key: string): Promise<{ body: Buffer; tag: string } | null>;
  /** Writes atomically: readers see the old object or the new one, never half of one. */
  put(key: string, body: Buffer | string): Promise<void>;
  /** Creates the object only if it does not exist yet. Returns false when it already did. */
  putIfAbsent(key: string, body: Buffer | string): Promise<boolean>;
  /**
   * Compare-and-swap: replaces the object only if its tag is still `tag` (null: only if it does
   * not exist). Returns false when someone else wrote first.
   */
  putIfMatch(key: string, body: Buffer | string, tag: string | null): Promise<boolean>;
  exists(key: string): Promise<boolean>;
  /**
   * Removes an object; nothing happens when it does not exist. Only for scratch objects (a
   * partitioned drift check's summaries): artefacts, registry and logs are never removed.
   */
  delete(key: string): Promise<void>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Copies a local file into the store (streams; for large artefacts). */
  upload(localPath: string, key: string): Promise<void>;
  /** Copies an object to a local file (streams). */
  download(key: string, localPath: string): Promise<void>;
  /**
   * The file that holds an object, when the store keeps it on this machine (the local store), to
   * read in place instead of copying; null when it does not exist. Only for objects that are
   * never rewritten (content-addressed ones), and never to be written to.
   */
  localFile?(key: string): Promise<string | null>;
}

/**
 * Names a backend may use for its own files next to objects (the local store's temporary and
 * lock files). Reserved in every backend, so a key that works in one works in all, and an
 * object can never be mistaken for, or overwritten as, one of those files.
 */
const RESERVED_SEGMENT = /^\.(tmp|lock)-/;

/** Rejects keys that could escape the store or mean two things. */
export function checkKey(key: string): string {
  if (
    !key ||
    key.startsWith('/') ||
    key.endsWith('/') ||
    key.split('/').some((p) => p === '' || p === '.' || p === '..' || RESERVED_SEGMENT.test(p))
  ) {
    throw new Error(`invalid store key: "${key}"`);
  }
  return key;
}

/** Rejects list prefixes that could reach outside the store ('' lists everything). */
export function checkPrefix(prefix: string): string {
  if (prefix.startsWith('/') || prefix.split('/').some((p) => p === '.' || p === '..')) {
    throw new Error(`invalid store prefix: "${prefix}"`);
  }
  return prefix;
}
