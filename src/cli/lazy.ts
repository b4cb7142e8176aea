/**
 * Commands are metadata plus a handler module imported only when the command runs: registering all
 * of them costs commander and a few option objects, so `--version`, `--help` and every command's own
 * `--help` start close to bare Node. Only type imports here — anything heavy belongs in a handler.
 */
import type { Command } from 'commander';
import type { RunIo } from './io.js';

/** What a handler gets: commander's positional values, the options merged with the global ones. */
export interface Invocation<O> {
  /** Positional arguments in declaration order (a variadic one is a string array). */
  args: readonly (string | string[] | undefined)[];
  options: O;
  io: RunIo;
  /** The commander command that matched (for the raw argv of a resume command). */
  command: Command;
  /** The program with every command registered in full (the running one has stubs for the rest). */
  fullProgram: () => Promise<Command>;
}

export type Handler<O> = (invocation: Invocation<O>) => Promise<number>;

/** How a registered command reaches the process: its I/O and where its exit code goes. */
export interface Wiring {
  io: () => RunIo;
  setExit: (code: number) => void;
  fullProgram: () => Promise<Command>;
}

export interface LazyActionOptions {
  /**
   * Make the lean V8 settings (heap.ts) before the handler's modules load, when the CLI owns the
   * process: for the commands that walk and archive a project. Loading them is itself hundreds of
   * modules' worth of allocation, and made afterwards the settings came too late for it (importing
   * zod alone: +14 MiB of peak memory with V8's defaults, +8 MiB with the settings).
   */
  leanV8?: boolean;
}

/** A commander action that imports the handler module on first use and runs it. */
export function lazyAction<O>(wiring: Wiring, load: () => Promise<Handler<O>>, options: LazyActionOptions = {}): (...actionArgs: unknown[]) => Promise<void> {
  return async (...actionArgs: unknown[]) => {
    // commander calls actions with (...positional, options, command).
    const command = actionArgs[actionArgs.length - 1] as Command;
    const args = actionArgs.slice(0, -2) as (string | string[] | undefined)[];
    if (options.leanV8 === true && wiring.io().ownsProcess === true) (await import('./heap.js')).useLeanV8();
    const handler = await load();
    wiring.setExit(await handler({ args, options: command.optsWithGlobals() as O, io: wiring.io(), command, fullProgram: wiring.fullProgram }));
  };
}
