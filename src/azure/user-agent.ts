// The user agent every request of the action carries; in a module of its own so that the
// entry point's early requests name it without loading the ARM client code.
export const USER_AGENT = 'vmss-identity-action/2.0';
