import type { Part } from '@prod/core';

/** A server an adapter booted for the conformance suite. */
export interface BootedServer {
  /** Base URL, e.g. `http://127.0.0.1:54321` (no trailing slash). */
  readonly url: string;
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>;
}

/**
 * The routes the boot function registers on the framework itself (not as parts), so the
 * suite can check what the adapter does for an application's own routes.
 */
export interface NativeRoutes {
  /** `GET` answering 200, `text/plain` body `native`, header `x-native: yes`. */
  readonly text: string;
  /** `GET` whose handler throws `CoreErrors.CONFLICT()` (passed to the framework's error path). */
  readonly fail: string;
}

/**
 * Boots a framework on 127.0.0.1 port 0 with `parts` mounted by the adapter under test, and
 * the `native` routes registered on the framework itself.
 */
export type AdapterBoot = (parts: Part[], native: NativeRoutes) => Promise<BootedServer>;

/** What every case file of the suite is given. */
export interface ConformanceContext {
  readonly boot: AdapterBoot;
  readonly native: NativeRoutes;
}
