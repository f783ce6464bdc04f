import type { ProtocolAdapter } from '../core/adapter.js';
import { WardenError } from '../errors.js';
import { postgresAdapter } from './postgres/adapter.js';

/** Every protocol Warden speaks, by the name used in `endpoints[].protocol` and `targets[].protocol`. */
const ADAPTERS: ReadonlyMap<string, ProtocolAdapter> = new Map([
  [postgresAdapter.protocol, postgresAdapter],
]);

export function adapterFor(protocol: string, where: string): ProtocolAdapter {
  const adapter = ADAPTERS.get(protocol);
  if (!adapter) {
    throw new WardenError(
      'config.invalid',
      `${where}: expected one of ${[...ADAPTERS.keys()].map((p) => JSON.stringify(p)).join(', ')}, got ${JSON.stringify(protocol)}`,
    );
  }
  return adapter;
}
