// Requests/s of one validated route on Express 5: GET /orders with a query of five fields
// (numbers and an enum coerced from strings, a repeated key as an array) and the response
// checked against its schema (the shared driver checks that every contender answers
// {"hello":"world"}, so the body is that; the 20-field body is measured by validation.bench.ts). Bare Express (no validation), Express with a
// hand-written zod middleware (the query parsed into res.locals, the response parsed before
// res.json: what teams write without a library), and @prod/express with a defineRoute route
// through apiPart (response validation in `strip` mode, the production default). Each server
// in its own child process.
// Run: pnpm --filter @prod/validation bench:http (CONNECTIONS, DURATION, WARMUP, ROUNDS:
// config/bench-http.ts).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { definePart, json } from '@prod/core';
import { mountExpress } from '@prod/express';
import { apiPart, defineRoute } from '@prod/validation';
import express, { type NextFunction, type Request, type Response } from 'express';
import expressPackage from 'express/package.json' with { type: 'json' };
import * as z from 'zod';
import { type Contender, listen, runHttpLoad } from '../../../config/bench-http.js';
import { Hello, SEARCH_PATH } from './fixtures.js';

const bare: Contender = async () => {
  const app = express();
  app.get('/orders', (_req, res) => {
    res.json({ hello: 'world' });
  });
  return listen(createServer(app));
};

const Query = z.object({
  limit: z.coerce.number().int().min(1).max(100),
  offset: z.coerce.number().int().min(0),
  status: z.enum(['open', 'paid']),
  tag: z.preprocess((value) => (Array.isArray(value) ? value : [value]), z.array(z.string())),
  q: z.string().optional(),
});

const validateQuery =
  (schema: z.ZodType) =>
  (req: Request, res: Response, next: NextFunction): void => {
    const parsed = schema.safeParse(req.query);
    if (!parsed.success) {
      res
        .status(400)
        .type('application/problem+json')
        .json({
          title: 'Invalid input',
          status: 400,
          errors: parsed.error.issues.map((issue) => ({
            path: issue.path.join('/'),
            message: issue.message,
          })),
        });
      return;
    }
    res.locals.query = parsed.data;
    next();
  };

const handWritten: Contender = async () => {
  const app = express();
  app.use((req, res, next) => {
    const incoming = req.headers['x-request-id'];
    res.setHeader(
      'x-request-id',
      typeof incoming === 'string' && incoming !== '' ? incoming : randomUUID(),
    );
    next();
  });
  app.get('/orders', validateQuery(Query), (_req, res) => {
    res.json(Hello.parse({ hello: 'world' }));
  });
  return listen(createServer(app));
};

const prod: Contender = async () => {
  const app = express();
  const search = defineRoute({
    method: 'GET',
    path: '/orders',
    request: {
      query: z.object({
        limit: z.number().int().min(1).max(100),
        offset: z.number().int().min(0),
        status: z.enum(['open', 'paid']),
        tag: z.array(z.string()),
        q: z.string().optional(),
      }),
    },
    responses: { 200: Hello },
    responseValidation: 'strip',
    handler: () => ({ status: 200, body: { hello: 'world' } }),
  });
  mountExpress(app, { parts: [apiPart({ routes: [search] })] });
  return listen(createServer(app));
};

const prodPlain: Contender = async () => {
  const app = express();
  const plain = definePart({
    name: 'plain',
    routes: [{ method: 'GET', path: '/orders', handler: () => json(200, { hello: 'world' }) }],
  });
  mountExpress(app, { parts: [plain] });
  return listen(createServer(app));
};

await runHttpLoad({
  title: `Validation-Express ${expressPackage.version}, GET ${SEARCH_PATH} (query of 5 fields and the response validated)`,
  benchUrl: import.meta.url,
  contenders: {
    bare,
    'express + hand-written zod middleware': handWritten,
    '@prod/express, plain route (no validation)': prodPlain,
    '@prod/express + defineRoute (apiPart)': prod,
  },
  bare: 'bare',
  baseline: 'express + hand-written zod middleware',
  path: SEARCH_PATH,
});
