// @ts-check
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import ts from 'typescript';
import tseslint from 'typescript-eslint';
import { defineConfig } from 'eslint/config';

const ROOT = dirname(fileURLToPath(import.meta.url));

/** The top-level folders of the project, read from disk so that a new one is covered by the layers' "imports only …" rules. */
const FOLDERS = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules')
  .map((d) => d.name);
const except = (...allowed) => FOLDERS.filter((f) => !allowed.includes(f));
const NODE_IO = ['fs', 'fs/promises', 'child_process', 'os'].flatMap((m) => [m, `node:${m}`]);
/**
 * npm packages other than the ones listed (the specifier is not relative, not a path, not a
 * Node built-in): a pattern reports once per match, so each specifier gets one reason.
 */
const packagesExcept = (...allowed) => `^(?![./]|node:)(?!(${allowed.join('|')})(/|$))`;

/**
 * The layers, in words: `folders` are forbidden by resolved path (import-x/no-restricted-paths,
 * so `../../store` from a subfolder counts the same as `../store`), `modules` by specifier
 * (no-restricted-imports, which can let type-only imports through). Every report starts with the
 * layer's rule, then says why, so it explains itself.
 */
const LAYERS = [
  {
    files: ['lib'],
    rule: 'lib is pure domain',
    folders: {
      from: except('lib'),
      why: 'lib imports only lib/; I/O lives in store/ and services/, Temporal in activities/ and workflows/',
    },
    modules: [
      { regex: '^@temporalio/', why: 'no Temporal; adapt lib/ in activities/ or workflows/' },
      {
        paths: NODE_IO,
        why: 'no file system, processes or machine state (node:path, node:url, node:crypto are fine); do I/O in store/ or services/',
      },
    ],
  },
  {
    files: ['store'],
    rule: 'store is I/O without Temporal',
    modules: [{ regex: '^@temporalio/', why: 'storage backends know nothing of workflows or activities' }],
  },
  {
    files: ['services'],
    rule: 'services are I/O without Temporal',
    modules: [{ regex: '^@temporalio/', why: 'not even types; activities/ adapt the services to Temporal' }],
  },
  {
    files: ['shared'],
    rule: 'shared is the neutral module',
    folders: { from: except('shared', 'lib'), why: 'client, worker and workflows all import it, so of ours it imports only lib/' },
    modules: [
      {
        regex: packagesExcept('@temporalio/workflow', 'zod'),
        why: 'only @temporalio/workflow (signal, query and update definitions) and zod, because workflows import it too',
      },
      { regex: '^node:', why: 'no Node built-ins, because workflows import it too' },
    ],
  },
  {
    files: ['workflows'],
    rule: 'workflows import no I/O',
    folders: {
      from: except('workflows', 'lib', 'shared', 'activities'),
      why: 'they must stay deterministic and fit the workflow bundle: lib/, shared/ and activity types only; I/O runs in activities',
    },
    modules: [
      {
        regex: '^@temporalio/(activity|client|worker)(/|$)',
        why: 'of Temporal only @temporalio/workflow, the rest does not run in the workflow sandbox',
      },
      { regex: '^node:', why: 'no Node built-ins, they are not deterministic; do it in an activity' },
      {
        regex: packagesExcept('@temporalio/(workflow|activity|client|worker)', 'zod'),
        why: 'of packages only @temporalio/workflow and zod, anything else may do I/O or be nondeterministic',
      },
      {
        regex: '^\\.\\./activities(/|$)',
        allowTypeImports: true,
        why: 'activities as types only (`import type`), called through proxyActivities',
      },
    ],
  },
  {
    files: ['cli', 'client', 'serving', 'examples', 'scripts', 'pipelines', 'api', 'console'],
    rule: 'only workers run activities',
    folders: { from: ['activities'], why: 'nothing outside a worker imports activities/; start a workflow instead' },
    modules: [{ paths: ['@temporalio/activity'], why: '@temporalio/activity works only inside a worker; start a workflow instead' }],
  },
];

/**
 * No import cycles, type-only imports included. import-x/no-cycle skips type-only imports, so
 * this rule checks exactly those edges: a type-only import (or `export type … from`) whose target
 * leads back to the importing file, through imports of any kind, is reported with the path.
 * The graph is read with the TypeScript compiler's own pre-processing and module resolution,
 * which follows tsconfig.json and package.json's exports like tsc does.
 */
const typeCycleRule = (() => {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    `${ROOT}/tsconfig.json`,
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  const options = parsed?.options ?? { moduleResolution: ts.ModuleResolutionKind.Bundler };
  const cache = ts.createModuleResolutionCache(ROOT, (f) => f, options);
  /** file -> [mtime, imported project files]; an mtime check keeps an editor's long-lived process right. */
  const graph = new Map();
  const resolve = (specifier, from) => {
    const r = ts.resolveModuleName(specifier, from, options, ts.sys, cache).resolvedModule;
    return r && !r.isExternalLibraryImport && !r.resolvedFileName.endsWith('.d.ts') ? r.resolvedFileName : null;
  };
  const importsOf = (file) => {
    const mtime = statSync(file, { throwIfNoEntry: false })?.mtimeMs;
    if (mtime === undefined) return [];
    const known = graph.get(file);
    if (known && known[0] === mtime) return known[1];
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = [...new Set(importedFiles.map((f) => resolve(f.fileName, file)).filter((f) => f !== null))];
    graph.set(file, [mtime, targets]);
    return targets;
  };
  /** Shortest import path from `start` back to `goal`, or null. */
  const pathBack = (start, goal) => {
    const previous = new Map([[start, null]]);
    for (const queue = [start]; queue.length > 0;) {
      const file = queue.shift();
      for (const next of importsOf(file)) {
        if (next === goal) {
          const route = [file];
          for (let f = previous.get(file); f; f = previous.get(f)) route.unshift(f);
          return route;
        }
        if (!previous.has(next)) {
          previous.set(next, file);
          queue.push(next);
        }
      }
    }
    return null;
  };
  const typeOnly = (node) =>
    node.importKind === 'type' ||
    node.exportKind === 'type' ||
    (node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type'));

  /** @type {import('eslint').Rule.RuleModule} */
  const rule = {
    meta: { type: 'problem', messages: { cycle: 'no import cycles, type-only imports included: {{route}}' }, schema: [] },
    create(context) {
      const file = context.physicalFilename;
      const check = (node) => {
        if (!node.source || !typeOnly(node)) return;
        const target = resolve(node.source.value, file);
        if (!target) return;
        const route = target === file ? [] : pathBack(target, file);
        if (!route) return;
        context.report({ node, messageId: 'cycle', data: { route: [file, ...route, file].map((f) => relative(ROOT, f)).join(' → ') } });
      };
      return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
    },
  };
  return rule;
})();

export default defineConfig(
  {
    ignores: ['**/node_modules/**', '.retrain/**', '**/dist/**', 'test/fixtures/**', 'test-output/**'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      // The plain JS files run on Node before npm install (setup, the bin shim): Node's globals.
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
  {
    plugins: { 'import-x': importX, retrain: { rules: { 'no-type-cycle': typeCycleRule } } },
    settings: {
      // import-x reads only .js files unless told otherwise: a cycle through .ts files would go unseen.
      'import-x/extensions': ['.ts', '.mts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts'] },
      // Resolves .ts files from extensionless imports and `retrain/*` through package.json exports, as tsc does.
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${ROOT}/tsconfig.json`, alwaysTryTypes: true })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'retrain/no-type-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: ROOT,
          zones: LAYERS.filter((l) => l.folders).map((l) => ({
            target: l.files.map((f) => `./${f}`),
            from: l.folders.from.map((f) => `./${f}`),
            message: `${l.rule}: ${l.folders.why}.`,
          })),
        },
      ],
      // Deliberate style of this codebase, not mistakes. `x!` marks a value a preceding check or the
      // schema guarantees (a map lookup after has(), an option with a default): rewriting the ~170
      // of them as runtime checks adds branches that never run. recommended leaves the rule off
      // already; it is named here so that moving to `strict` keeps this decision.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `{ field: _field, ...rest }` leaves a field out of a copy; `_name` says the binding is unused on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The drift statistics carry scipy's, cephes' and Boost's constants digit for digit, so they can
    // be checked against their source; the double each one rounds to is the intended value.
    files: ['lib/drift/**'],
    rules: { 'no-loss-of-precision': 'off' },
  },
  // One block per layer: no-restricted-imports options do not merge across blocks, and the layers' folders are disjoint.
  ...LAYERS.filter((l) => l.modules).map(
    /** @returns {import('eslint').Linter.Config} */ (l) => ({
      files: l.files.map((f) => `${f}/**/*.{ts,mts,js,mjs}`),
      rules: {
        '@typescript-eslint/no-restricted-imports': [
          'error',
          {
            paths: l.modules.flatMap((m) => (m.paths ?? []).map((name) => ({ name, message: `${l.rule}: ${m.why}.` }))),
            patterns: l.modules
              .filter((m) => m.regex)
              .map((m) => ({ regex: m.regex, caseSensitive: true, message: `${l.rule}: ${m.why}.`, allowTypeImports: m.allowTypeImports })),
          },
        ],
      },
    }),
  ),
);
