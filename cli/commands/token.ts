import { z } from 'zod';
import { scopeSchema, type Scope } from '../../lib/api-tokens';
import { loadConfig } from '../../services/config';
import { addToken, loadTokensFile } from '../../services/api-tokens';
import { defineCommand } from '../command';
import { jsonFlag } from '../common-args';
import { output } from '../format';

const scopeList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()))
  .pipe(z.array(scopeSchema).min(1));

/** `retrain token`: the HTTP API's bearer tokens (the file keeps only their hashes). */
export const tokenCommand = defineCommand({
  name: 'token',
  summary: 'create and list the HTTP API’s bearer tokens',
  details:
    'A token is an identity (--name: a service, or a person’s e-mail as the pipeline’s approvers list it) with scopes:\n' +
    '  log (POST /v1/predictions), label (POST /v1/labels), read (GET …), retrain (POST …/retrain),\n' +
    '  approve:<model> or approve:* (POST …/approve and …/reject; the person must also be a listed approver).\n' +
    'The token is printed once; RETRAIN_API_TOKENS_FILE keeps only its SHA-256. `retrain serve` reads the file when it starts.',
  positionals: [
    { name: 'action', description: 'what to do:', choices: { add: 'create a token and print it once', list: 'names and scopes' } },
  ],
  flags: {
    name: {
      type: 'string',
      schema: z.string().min(1).max(200).optional(),
      placeholder: 'WHO',
      description: 'with add: who uses the token (recorded as the actor)',
    },
    scopes: {
      type: 'string',
      schema: scopeList.optional(),
      placeholder: 'LIST',
      description: 'with add: comma-separated scopes',
    },
    json: jsonFlag,
  },
  check: ({ action, name, scopes }) =>
    action === 'add' && (name === undefined || scopes === undefined) ? 'add needs --name and --scopes' : undefined,
  examples: [
    'retrain token add --name rails-app --scopes log,label,read,retrain',
    'retrain token add --name alice@example.com --scopes read,approve:churn',
    'retrain token list',
  ],
  async run(args) {
    const config = loadConfig();
    const file = config.apiTokensFile;
    if (args.action === 'add') {
      const token = await addToken(file, args.name!, args.scopes as Scope[]);
      output(
        args.json,
        { name: args.name, scopes: args.scopes, token, file },
        () =>
          `Token for ${args.name} (${(args.scopes as string[]).join(', ')}), shown only now:\n\n  ${token}\n\n` +
          `Its hash is in ${file}; restart \`retrain serve\` to use it. Send it as: Authorization: Bearer <token>` +
          (config.apiTokens === undefined
            ? ''
            : `\nRETRAIN_API_TOKENS is set, and \`retrain serve\` reads it instead of the file: copy the new entry of ${file} into it.`),
      );
      return 0;
    }
    const { tokens } = await loadTokensFile(file);
    output(
      args.json,
      tokens.map(({ name, scopes, createdAt }) => ({ name, scopes, createdAt: createdAt ?? null })),
      () =>
        tokens.length ? tokens.map((t) => `${t.name}  ${t.scopes.join(',')}  ${t.createdAt ?? ''}`).join('\n') : `no tokens in ${file}`,
    );
    return 0;
  },
});
