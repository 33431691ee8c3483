// Requests/s of a hello route on Express 5: bare, with its usual peer plugins (pino-http +
// express-prom-bundle, request id by genReqId) and with the @prod stack (request id, request
// logging, metrics, tracing without SDK). Every stack logs to a discarding stream.
// Run: pnpm bench:http (CONNECTIONS, DURATION, WARMUP, ROUNDS: see config/bench-http.ts).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { definePart, json, type Part } from '@prod/core';
import { mountExpress } from '@prod/express';
import { createLogger, requestLoggingPart } from '@prod/logger';
import { createMetrics, metricsPart } from '@prod/metrics';
import { tracingPart } from '@prod/tracing';
import express from 'express';
import expressPackage from 'express/package.json' with { type: 'json' };
import promBundle from 'express-prom-bundle';
import { pino } from 'pino';
import { pinoHttp } from 'pino-http';
import {
  type Contender,
  listen,
  type ProdStack,
  prodContenders,
  runHttpLoad,
} from '../../../config/bench-http.js';

const PROD = '@prod (@prod/express + tracing, logging, metrics parts)';

const stack: ProdStack<Part> = {
  tracing: () => tracingPart(),
  logging: (log) => requestLoggingPart({ logger: createLogger({ destination: log }) }),
  metrics: () => metricsPart(createMetrics()),
  hello: definePart({
    name: 'hello',
    routes: [{ method: 'GET', path: '/hello', handler: () => json(200, { hello: 'world' }) }],
  }),
};

const bare: Contender = async () => {
  const app = express();
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  return listen(createServer(app));
};

const peer: Contender = async (log) => {
  const app = express();
  app.use(
    pinoHttp({
      logger: pino({}, log),
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && incoming !== '' ? incoming : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
    }),
  );
  app.use(
    promBundle({
      includeMethod: true,
      includePath: true,
      includeStatusCode: true,
      promClient: { collectDefaultMetrics: {} },
    }),
  );
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  return listen(createServer(app));
};

const prod = prodContenders(PROD, stack, async (parts) => {
  const app = express();
  mountExpress(app, { parts });
  return listen(createServer(app));
});

await runHttpLoad({
  title: `Express ${expressPackage.version}`,
  benchUrl: import.meta.url,
  contenders: {
    bare,
    'peer (pino-http + express-prom-bundle)': peer,
    ...prod,
  },
  bare: 'bare',
  baseline: 'peer (pino-http + express-prom-bundle)',
  path: '/hello',
});
