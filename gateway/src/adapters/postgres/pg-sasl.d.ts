declare module 'pg/lib/crypto/sasl.js' {
  interface SaslSession {
    mechanism: string;
    clientNonce: string;
    response: string;
    message: string;
  }
  export function startSession(mechanisms: string[], stream?: unknown): SaslSession;
  export function continueSession(
    session: SaslSession,
    password: string,
    serverData: string,
    stream?: unknown,
  ): Promise<void>;
  export function finalizeSession(session: SaslSession, serverData: string): void;
}
declare module 'pg/lib/crypto/utils.js' {
  export function postgresMd5PasswordHash(
    user: string,
    password: string,
    salt: Buffer,
  ): Promise<string>;
}
