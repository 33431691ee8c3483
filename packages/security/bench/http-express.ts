// Requests/s of a hello route with security headers on Express 5: bare Express; helmet 8 with its
// defaults (and a request-id echo, so every contender does the same work); @prod/express with
// securityHeadersPart (helmet's headers, an API CSP); and, to tell the part's cost from the
// adapter's, @prod/express alone and @prod/express with helmet mounted before it. Each server
// in its own child process. Run: pnpm --filter @prod/security bench:http
// (CONNECTIONS, DURATION, WARMUP, ROUNDS: config/bench-http.ts).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { definePart, json, type Part } from '@prod/core';
import { prodExpress } from '@prod/express';
import { securityHeadersPart } from '@prod/security';
import express from 'express';
import expressPackage from 'express/package.json' with { type: 'json' };
import helmet from 'helmet';
import { type Contender, listen, runHttpLoad } from '../../../config/bench-http.js';

const hello = definePart({
  name: 'hello',
  routes: [{ method: 'GET', path: '/hello', handler: () => json(200, { hello: 'world' }) }],
});

const bare: Contender = async () => {
  const app = express();
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  return listen(createServer(app));
};

const withHelmet: Contender = async () => {
  const app = express();
  app.use((req, res, next) => {
    const incoming = req.headers['x-request-id'];
    res.setHeader(
      'x-request-id',
      typeof incoming === 'string' && incoming !== '' ? incoming : randomUUID(),
    );
    next();
  });
  app.use(helmet());
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  return listen(createServer(app));
};

const prod =
  (parts: () => Part[], native?: (app: express.Express) => void): Contender =>
  async () => {
    const app = express();
    app.disable('x-powered-by');
    native?.(app);
    const mounted = prodExpress({ parts: parts() });
    app.use(mounted.handler);
    app.use(mounted.finalHandler);
    return listen(createServer(app));
  };

// helmet's exports map does not list its package.json: read it next to its entry point.
const helmetEntry = createRequire(import.meta.url).resolve('helmet');
const helmetVersion = (
  JSON.parse(readFileSync(join(dirname(helmetEntry), 'package.json'), 'utf8')) as {
    version: string;
  }
).version;
const HELMET = `express + helmet ${helmetVersion}`;
await runHttpLoad({
  title: `Security-headers-Express ${expressPackage.version}`,
  benchUrl: import.meta.url,
  contenders: {
    bare,
    [HELMET]: withHelmet,
    '@prod/express + securityHeadersPart': prod(() => [securityHeadersPart(), hello]),
    '@prod/express alone (no security headers)': prod(() => [hello]),
    '@prod/express + helmet before it': prod(
      () => [hello],
      (app) => app.use(helmet()),
    ),
  },
  bare: 'bare',
  baseline: HELMET,
  path: '/hello',
});
