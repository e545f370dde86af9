// Types of provision.mjs (plain JS so it can run before npm install).
export const ROOT: string;
export const STATE_DIR: string;
export const TEMPORAL_CLI_MODULE: string;
export const TEMPORAL_CLI_VERSION: string;
export const MINIO_MODULE: string;
export function findTemporalCli(): string | null;
export function findMinio(): string | null;
export function findPython(): string;
export function findSdkPython(): string;
export function ensureNodeModules(): void;
export function ensureTemporalCli(): string | null;
export function ensureMinio(): string | null;
export function ensurePythonEnv(): string;
export function ensurePythonSdk(): string;
export function findChromium(): string | null;
export function ensureChromium(): string | null;
