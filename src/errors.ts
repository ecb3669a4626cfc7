// Errors the action raises itself. Each says what is wrong and what to do.
export class InputError extends Error {
  readonly input: string;

  constructor(input: string, problem: string) {
    super(`Input '${input}': ${problem}`);
    this.name = 'InputError';
    this.input = input;
  }
}

/** A failure with a known cause and advice, already phrased for the user. */
export class ActionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ActionError';
  }
}
