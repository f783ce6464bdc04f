import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { WardenError } from '../errors.js';

interface Exports {
  opa_eval(
    reserved: number,
    entrypoint: number,
    data: number,
    input: number,
    inputLen: number,
    heap: number,
    format: number,
  ): number;
}

const PAGE = 65536;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The per-command evaluation path, over a policy the SDK has loaded. The
 * SDK's own evaluate() copies the input through an intermediate buffer,
 * scans for the result's end byte by byte in JavaScript and builds a new
 * TextDecoder each call; this writes the input straight into the module's
 * memory and returns the result set's JSON text, which the caller parses
 * once and can log without serialising it again.
 */
export class WasmEvaluator {
  readonly #policy: LoadedPolicy;
  readonly #exports: Exports;
  readonly #entrypoint: number;

  constructor(policy: LoadedPolicy, entrypoint: number) {
    if (Number(policy.minorVersion) < 2) {
      throw new WardenError(
        'bundle.invalid',
        'policy.wasm uses an OPA WebAssembly ABI older than 1.2',
      );
    }
    this.#policy = policy;
    this.#exports = (policy.wasmInstance as unknown as { exports: Exports }).exports;
    this.#entrypoint = entrypoint;
  }

  /** Evaluates one input (JSON text) and returns the result set as JSON text, e.g. `[{"result":{...}}]`. */
  evaluate(inputJson: string): string {
    const mem = this.#policy.mem;
    const inputAddr = this.#policy.dataHeapPtr as number;
    const worstCase = inputJson.length * 3;
    if (inputAddr + worstCase > mem.buffer.byteLength) {
      mem.grow(Math.ceil((inputAddr + worstCase - mem.buffer.byteLength) / PAGE));
    }
    const { written } = encoder.encodeInto(
      inputJson,
      new Uint8Array(mem.buffer, inputAddr, worstCase),
    );
    const resultAddr = this.#exports.opa_eval(
      0,
      this.#entrypoint,
      this.#policy.dataAddr,
      inputAddr,
      written,
      inputAddr + written,
      0,
    );
    const bytes = new Uint8Array(mem.buffer);
    return decoder.decode(bytes.subarray(resultAddr, bytes.indexOf(0, resultAddr)));
  }
}

const RESULT_PREFIX = '[{"result":';

/** The `result` of a one-element result set as JSON text, without re-serialising it. */
export function resultText(resultSet: string): string | null {
  return resultSet.startsWith(RESULT_PREFIX) && resultSet.endsWith('}]')
    ? resultSet.slice(RESULT_PREFIX.length, -2)
    : null;
}
