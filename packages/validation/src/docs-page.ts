import { createHash } from 'node:crypto';
import type { JsonObject } from './openapi.js';

/** What the reference page shows beside the document. */
export interface DocsPageOptions {
  /** Where the page links the JSON document. Default `openapi.json`. */
  readonly specUrl?: string;
  /** Other versions' pages, as `[label, href]` pairs. */
  readonly versions?: readonly (readonly [string, string])[];
}

/** A rendered reference page and the Content-Security-Policy that lets it load nothing else. */
export interface DocsPage {
  readonly html: string;
  readonly contentSecurityPolicy: string;
  /** The CSP source of the page's one inline style (`'sha256-...'`), for a policy of your own. */
  readonly styleSource: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const CSS = `:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--code:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#8d96a0;--line:#30363d;--code:#161b22}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--fg);background:var(--bg)}
header,main{max-width:1100px;margin:0 auto;padding:16px 24px}header{border-bottom:1px solid var(--line)}
h1{margin:.2em 0}h2{margin-top:2em;border-bottom:1px solid var(--line)}h3{margin:.2em 0;font-size:1.05em}
nav ul{columns:2;padding-left:1.2em}a{color:#0969da}article{border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin:16px 0}
.m{display:inline-block;min-width:4.2em;text-align:center;border-radius:4px;padding:0 .4em;color:#fff;font:600 12px/1.8 ui-monospace,monospace;text-transform:uppercase}
.get{background:#1f6feb}.post{background:#1a7f37}.put{background:#9a6700}.patch{background:#8250df}.delete{background:#cf222e}.head,.options,.trace{background:#57606a}
.dep{color:#cf222e;font-weight:600}.muted{color:var(--muted)}code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:var(--code);padding:8px 12px;border-radius:6px;overflow:auto;max-height:28em}
table{border-collapse:collapse;width:100%}td,th{border-top:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}`;

const STYLE_HASH = createHash('sha256').update(CSS).digest('base64');

function esc(text: unknown): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function anchor(kind: string, name: string): string {
  return `${kind}-${name.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
}

function schemaBlock(schema: unknown): string {
  const text = esc(JSON.stringify(schema, null, 2) ?? '{}');
  return `<pre>${text.replace(
    /&quot;#\/components\/schemas\/([^&]+)&quot;/g,
    (_match, name: string) =>
      `&quot;<a href="#${anchor('schema', name)}">#/components/schemas/${name}</a>&quot;`,
  )}</pre>`;
}

function asObject(value: unknown): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : {};
}

function content(media: unknown): string {
  let out = '';
  for (const [type, entry] of Object.entries(asObject(media))) {
    out += `<p class="muted"><code>${esc(type)}</code></p>${schemaBlock(asObject(entry).schema ?? {})}`;
  }
  return out;
}

function operationHtml(method: string, path: string, op: JsonObject): string {
  const id = typeof op.operationId === 'string' ? op.operationId : `${method}-${path}`;
  let out = `<article id="${esc(anchor('op', id))}"><h3><span class="m ${method}">${method}</span> <code>${esc(path)}</code>`;
  if (op.deprecated === true) out += ' <span class="dep">deprecated</span>';
  out += '</h3>';
  if (op.summary !== undefined) out += `<p><strong>${esc(op.summary)}</strong></p>`;
  if (op.description !== undefined) out += `<p>${esc(op.description)}</p>`;
  const security = Array.isArray(op.security) ? op.security : [];
  const names = security.flatMap((requirement) => Object.keys(asObject(requirement)));
  out += `<p class="muted">${names.length === 0 ? 'No authentication' : `Authentication: ${names.map(escape).join(', ')}`}</p>`;
  const parameters = Array.isArray(op.parameters) ? op.parameters.map(asObject) : [];
  if (parameters.length > 0) {
    out +=
      '<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr>';
    for (const parameter of parameters) {
      out += `<tr><td><code>${esc(parameter.name)}</code></td><td>${esc(parameter.in)}</td><td>${parameter.required === true ? 'yes' : 'no'}</td><td><code>${esc(JSON.stringify(parameter.schema ?? {}))}</code></td><td>${esc(parameter.description ?? '')}</td></tr>`;
    }
    out += '</table>';
  }
  const body = asObject(op.requestBody);
  if (body.content !== undefined) {
    out += `<h4>Request body${body.required === true ? '' : ' (optional)'}</h4>${content(body.content)}`;
  }
  out += '<h4>Responses</h4>';
  for (const [status, response] of Object.entries(asObject(op.responses))) {
    const entry = asObject(response);
    out += `<p><strong>${esc(status)}</strong> ${esc(entry.description ?? '')}</p>`;
    if (entry.content !== undefined) out += content(entry.content);
  }
  return `${out}</article>`;
}

/**
 * Renders an OpenAPI document as one self-contained HTML reference page: operations grouped
 * by tag (method, path, summary, parameters, request body and every response with its
 * schema), then the component schemas, `$ref`s as links. No script, no CDN, no external
 * asset: it works offline, and its Content-Security-Policy allows only its own inline style.
 *
 * @example
 * const page = renderDocsPage({ openapi: '3.1.0', info: { title: 'Notes', version: '1' }, paths: {} });
 * console.log(page.html.startsWith('<!doctype html>'), page.contentSecurityPolicy);
 */
export function renderDocsPage(document: JsonObject, options: DocsPageOptions = {}): DocsPage {
  const info = asObject(document.info);
  const title = typeof info.title === 'string' ? info.title : 'API';
  const groups = new Map<string, string[]>();
  const toc: string[] = [];
  for (const [path, item] of Object.entries(asObject(document.paths))) {
    for (const method of METHODS) {
      const op = asObject(asObject(item)[method]);
      if (Object.keys(op).length === 0) continue;
      const tags = Array.isArray(op.tags) && op.tags.length > 0 ? op.tags.map(String) : ['default'];
      const tag = tags[0] as string;
      const html = operationHtml(method, path, op);
      groups.set(tag, [...(groups.get(tag) ?? []), html]);
      const id = typeof op.operationId === 'string' ? op.operationId : `${method}-${path}`;
      toc.push(
        `<li><a href="#${esc(anchor('op', id))}"><span class="m ${method}">${method}</span> ${esc(path)}</a></li>`,
      );
    }
  }
  const tagDescriptions = new Map(
    (Array.isArray(document.tags) ? document.tags : []).map((tag) => [
      String(asObject(tag).name),
      asObject(tag).description,
    ]),
  );
  let main = '';
  for (const [tag, operations] of groups) {
    main += `<section><h2 id="${esc(anchor('tag', tag))}">${esc(tag)}</h2>`;
    const description = tagDescriptions.get(tag);
    if (description !== undefined) main += `<p>${esc(description)}</p>`;
    main += `${operations.join('')}</section>`;
  }
  const schemas = asObject(asObject(document.components).schemas);
  if (Object.keys(schemas).length > 0) {
    main += '<section><h2 id="schemas">Schemas</h2>';
    for (const [name, schema] of Object.entries(schemas)) {
      main += `<h3 id="${esc(anchor('schema', name))}">${esc(name)}</h3>${schemaBlock(schema)}`;
    }
    main += '</section>';
  }
  const versions = (options.versions ?? [])
    .map(([label, href]) => `<a href="${esc(href)}">${esc(label)}</a>`)
    .join(' · ');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} ${esc(info.version ?? '')}</title><style>${CSS}</style></head>
<body><header><h1>${esc(title)} <span class="muted">${esc(info.version ?? '')}</span></h1>
${info.description === undefined ? '' : `<p>${esc(info.description)}</p>`}
<p><a href="${esc(options.specUrl ?? 'openapi.json')}">OpenAPI document (JSON)</a>${versions === '' ? '' : ` · versions: ${versions}`}</p>
<nav><ul>${toc.join('')}</ul></nav></header>
<main>${main}</main></body></html>
`;
  return {
    html,
    contentSecurityPolicy: `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    styleSource: `'sha256-${STYLE_HASH}'`,
  };
}
