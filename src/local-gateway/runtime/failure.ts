/** How a real deployment ends early: a failure in a phase (with its message), or a cancellation. */

import type { FailurePhase } from '../store.js';

export class DeployFailure extends Error {
  constructor(
    readonly phase: FailurePhase,
    message: string,
  ) {
    super(message);
  }
}

export class DeployCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}
