// Requests/s of one rate-limited hello route on Express 5, the same limit everywhere (a fixed
// window of 1e9 requests a minute per client IP, so every request is counted and none refused):
// bare Express, express-rate-limit 8 (draft-8 headers, its memory store), and @prod/express with
// rateLimitPart (draft-11 headers, memory store). Each server in its own child process.
// Run: pnpm --filter @prod/ratelimit bench:http (CONNECTIONS, DURATION, WARMUP, ROUNDS: config/bench-http.ts).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { definePart, json } from '@prod/core';
import { mountExpress } from '@prod/express';
import { createRateLimiter, rateLimitPart } from '@prod/ratelimit';
import express from 'express';
import expressPackage from 'express/package.json' with { type: 'json' };
import { rateLimit } from 'express-rate-limit';
import { type Contender, listen, runHttpLoad } from '../../../config/bench-http.js';

const LIMIT = 1_000_000_000;
const WINDOW = 60_000;

const bare: Contender = async () => {
  const app = express();
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  return listen(createServer(app));
};

const peer: Contender = async () => {
  const app = express();
  app.use((req, res, next) => {
    const incoming = req.headers['x-request-id'];
    res.setHeader(
      'x-request-id',
      typeof incoming === 'string' && incoming !== '' ? incoming : randomUUID(),
    );
    next();
  });
  app.use(
    rateLimit({ windowMs: WINDOW, limit: LIMIT, standardHeaders: 'draft-8', legacyHeaders: false }),
  );
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  return listen(createServer(app));
};

const prod: Contender = async () => {
  const app = express();
  const limiter = createRateLimiter({
    policies: [{ name: 'per-minute', limit: LIMIT, window: WINDOW, key: 'ip' }],
  });
  const hello = definePart({
    name: 'hello',
    routes: [{ method: 'GET', path: '/hello', handler: () => json(200, { hello: 'world' }) }],
  });
  mountExpress(app, { parts: [rateLimitPart(limiter), hello] });
  return listen(createServer(app));
};

await runHttpLoad({
  title: `RateLimit-Express ${expressPackage.version}, limit 1e9/min per IP (fixed window, memory)`,
  benchUrl: import.meta.url,
  contenders: {
    bare,
    'express-rate-limit 8 (draft-8 headers)': peer,
    '@prod/express + rateLimitPart (draft-11 headers)': prod,
  },
  bare: 'bare',
  baseline: 'express-rate-limit 8 (draft-8 headers)',
  path: '/hello',
});
