// A stand-in for the npm registry while the @prod packages are not published: builds and
// packs them as `pnpm publish` would (`pnpm pack` turns `workspace:` ranges into versions),
// and serves them on 127.0.0.1 as the `@prod` scope's registry. npm keeps fetching every
// other package from its usual registry: point only the scope here, with
// `npm_config_@prod:registry=<url>` in npm's environment.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repository = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** The registry stand-in: its URL (the `@prod` scope's registry) and how to stop it. */
export interface LocalRegistry {
  readonly url: string;
  /** The packed tarballs, by package name. */
  readonly tarballs: ReadonlyMap<string, string>;
  close(): Promise<void>;
}

const readManifest = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

/** Folder of each package of `packages/`, by name. */
function workspacePackages(): Map<string, string> {
  return new Map(
    readdirSync(join(repository, 'packages')).map((folder) => {
      const path = join(repository, 'packages', folder);
      return [readManifest(join(path, 'package.json')).name, path] as const;
    }),
  );
}

/**
 * The @prod packages the given manifests need, with what those need in turn (dependencies,
 * peer and dev dependencies of the manifests themselves; dependencies and peers below them).
 */
export function prodPackagesNeededBy(manifestPaths: readonly string[]): string[] {
  const folders = workspacePackages();
  const needed = new Set<string>();
  const visit = (names: Iterable<string>): void => {
    for (const name of names) {
      if (!name.startsWith('@prod/') || needed.has(name)) continue;
      needed.add(name);
      const folder = folders.get(name);
      if (folder === undefined) throw new Error(`${name} is not a package of this repository`);
      const manifest = readManifest(join(folder, 'package.json'));
      visit(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }));
    }
  };
  for (const path of manifestPaths) {
    const manifest = readManifest(path);
    visit(
      Object.keys({
        ...manifest.dependencies,
        ...manifest.devDependencies,
        ...manifest.peerDependencies,
      }),
    );
  }
  return [...needed].sort();
}

/**
 * Builds `names` (turbo: cached when nothing changed), packs each with `pnpm pack` into
 * `directory`, and serves them as a registry would: `GET /@prod%2f<name>` answers the
 * packument, `GET /<name>/-/<file>.tgz` the tarball, with its integrity.
 */
export async function publishLocally(
  names: readonly string[],
  directory: string,
): Promise<LocalRegistry> {
  const folders = workspacePackages();
  const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };
  execFileSync(
    'pnpm',
    [
      'exec',
      'turbo',
      'run',
      'build',
      '--output-logs=errors-only',
      ...names.map((n) => `--filter=${n}`),
    ],
    { cwd: repository, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const tarballs = new Map<string, string>();
  const documents = new Map<string, { manifest: Manifest; file: string; data: Buffer }>();
  for (const name of names) {
    const folder = folders.get(name);
    if (folder === undefined) throw new Error(`${name} is not a package of this repository`);
    const printed = execFileSync('pnpm', ['pack', '--pack-destination', directory], {
      cwd: folder,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = printed
      .trim()
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.endsWith('.tgz'))
      .at(-1);
    if (file === undefined)
      throw new Error(`pnpm pack printed no tarball for ${name}:\n${printed}`);
    const path = resolve(directory, basename(file));
    // The manifest as packed: `workspace:` ranges already turned into versions.
    const manifest = JSON.parse(
      execFileSync('tar', ['-xzOf', path, 'package/package.json'], { encoding: 'utf8' }),
    ) as Manifest;
    tarballs.set(name, path);
    documents.set(name, { manifest, file: basename(path), data: readFileSync(path) });
  }

  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://registry').pathname);
    const tarball = /^\/(@prod\/[^/]+)\/-\/([^/]+\.tgz)$/.exec(path);
    const packed = documents.get(tarball?.[1] ?? path.slice(1));
    if (packed === undefined || (tarball !== null && tarball[2] !== packed.file)) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    if (tarball !== null) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(packed.data);
      return;
    }
    const { manifest, file, data } = packed;
    const address = server.address() as AddressInfo;
    const version = {
      ...manifest,
      _id: `${manifest.name}@${manifest.version}`,
      dist: {
        tarball: `http://127.0.0.1:${address.port}/${manifest.name}/-/${file}`,
        integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
        shasum: createHash('sha1').update(data).digest('hex'),
      },
    };
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        _id: manifest.name,
        name: manifest.name,
        'dist-tags': { latest: manifest.version },
        versions: { [manifest.version]: version },
      }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    tarballs,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
