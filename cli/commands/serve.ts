import { hostPort, storeLocation } from '../../lib/config';
import { loadConfig } from '../../services/config';
import { loadTokens } from '../../services/api-tokens';
import { startApi } from '../../api/server';
import { consoleRoutes } from '../../console/routes';
import { describeTemporal } from '../../client/temporal-connection';
import { defineCommand } from '../command';

const address = hostPort.optional();

/** `retrain serve`: the HTTP API, until SIGTERM or SIGINT (then it finishes the requests in flight). */
export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'the HTTP API and the web console: log predictions and labels, champions, retrains, approvals (any language)',
  details:
    'Serves /v1/… with bearer tokens from RETRAIN_API_TOKENS_FILE or RETRAIN_API_TOKENS (create them with `retrain token add`),\n' +
    'the web console at /ui (sign in with a token that has the read scope), /openapi.json, /healthz and /readyz.\n' +
    'Binds to 127.0.0.1 unless --address or RETRAIN_API_ADDRESS says otherwise; put TLS in a reverse proxy in front of it.\n' +
    'SIGTERM/SIGINT: stops taking requests and answers the ones in flight.',
  flags: {
    address: {
      type: 'string',
      schema: address,
      placeholder: 'HOST:PORT',
      description: 'where to listen',
      shownDefault: 'RETRAIN_API_ADDRESS',
    },
  },
  examples: ['retrain serve', 'retrain serve --address 0.0.0.0:8080'],
  async run(args) {
    const config = loadConfig();
    const say = (line: string) => process.stderr.write(line + '\n');
    const tokens = await loadTokens(config);
    const api = await startApi(config, { tokens, address: args.address, extensions: [consoleRoutes] });
    const models = api.models.list();
    say(
      `retrain serve: listening on ${api.url}, console at ${api.url}/ui (models: ${models.join(', ') || 'none'}; ${tokens.tokens.length} token${tokens.tokens.length === 1 ? '' : 's'}; ` +
        `store ${storeLocation(config.store)}; Temporal ${describeTemporal(config)})`,
    );
    if (!['127.0.0.1', 'localhost', '::1'].includes(api.host))
      say(
        `retrain serve: ${api.host} is reachable from other machines: put TLS in front of it (a reverse proxy), bearer tokens travel in headers`,
      );
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        say(`retrain serve: ${signal}, finishing the requests in flight`);
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    await api.close();
    say('retrain serve: stopped');
    return 0;
  },
});
