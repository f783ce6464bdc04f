import type { Logger } from 'pino';
import type { EndpointConfig } from '../config/schema.js';
import type { Core } from './types.js';

export interface Listening {
  /** host:port actually bound (the port is chosen by the system when configured as 0). */
  address: string;
  close(): Promise<void>;
}

/**
 * A protocol adapter owns its wire protocol: framing, TLS, client
 * authentication, the upstream login, turning traffic into Commands and
 * rendering Verdicts. It sees the core only through `Core`.
 */
export interface ProtocolAdapter {
  readonly protocol: string;
  /** Prepares what the adapter needs once (parsers, ...). Called before the first serve(). */
  prepare(): Promise<void>;
  serve(endpoint: EndpointConfig, core: Core, logger: Logger): Promise<Listening>;
}
