/** What the development issuer and the tests' OpenID Provider both need from oidc-provider. */

/** An oidc-provider client that may only use the client-credentials grant. */
export function clientCredentialsClient(
  clientId: string,
  clientSecret: string,
  scope: string | undefined,
) {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope,
  };
}

/**
 * Runs `fn` with oidc-provider's development-mode notices (runtime, in-memory
 * adapter) silenced; for the development issuer and the tests' provider.
 */
export function quietly<T>(fn: () => T): T {
  const { warn, info } = console;
  const filter =
    (write: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider')) return;
      write(...args);
    };
  console.warn = filter(warn);
  console.info = filter(info);
  const restore = () => {
    console.warn = warn;
    console.info = info;
  };
  try {
    const result = fn();
    if (result instanceof Promise) {
      return result.finally(restore) as T;
    }
    restore();
    return result;
  } catch (err) {
    restore();
    throw err;
  }
}
