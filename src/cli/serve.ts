// `kiln serve`: the HTTP API over this home's store, until SIGINT or SIGTERM.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { KilnError } from '../core/errors.js';
import { createApi } from '../server/api.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { withKiln } from './kiln.js';

const HELP = `usage: kiln serve [--listen HOST:PORT]

Serves Kiln's HTTP API (default 127.0.0.1:8080; port 0 picks a free one) over the store of
KILN_HOME, and prints "listening on http://HOST:PORT" once it accepts requests. Stops on SIGINT or
SIGTERM after the requests in flight.

  GET /healthz             liveness (open)
  GET /v1/openapi.json     the OpenAPI 3.1 document of the API (open)
  GET /v1/builds           recorded builds, newest first (?project=NAME&limit=N)
  GET /v1/builds/{id}      one build with its steps and artifacts

Everything under /v1 but the OpenAPI document needs \`Authorization: Bearer <token>\`: create
tokens with \`kiln tokens create --scope read|trigger|admin\`.`;

/** Serves the API until the process is asked to stop. */
export async function serveCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('serve', argv, { listen: { type: 'string', default: '127.0.0.1:8080' } }, 0);
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const { hostname, port } = listenAddress(values.listen);
  await withKiln(ctx, { lines: true }, async (kiln) => {
    await kiln.ready();
    const app = createApi({
      kiln,
      version: ctx.version,
      onBug: (err) => println(ctx.stderr, `kiln: internal error serving a request: ${(err as Error)?.stack ?? err}`),
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname, port }, () => resolve(s));
      s.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new KilnError('KILN_USAGE', `cannot listen on ${values.listen}: ${err.code ?? err.message}`, {
            hint: 'pick a free port (or 0 for any) on an address of this machine',
          }),
        ),
      );
    });
    const { port: bound } = server.address() as AddressInfo;
    const host = hostname.includes(':') ? `[${hostname}]` : hostname;
    println(ctx.stdout, `kiln: listening on http://${host}:${bound}`);
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });
  return 0;
}

/** `HOST:PORT` (`[::1]:PORT` for IPv6) with a port from 0 to 65535. */
function listenAddress(listen: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (!m || port > 65535) {
    throw new KilnError('KILN_USAGE', `--listen must be HOST:PORT, got "${listen}"`, {
      hint: 'e.g. --listen 127.0.0.1:8080, or 127.0.0.1:0 for any free port',
    });
  }
  return { hostname: (m[1] ?? m[2]) as string, port };
}
