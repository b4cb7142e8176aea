/**
 * Deploy is the default command, so `opendeploy stauts` would otherwise try to deploy a folder
 * called "stauts". A first operand that is neither a command nor a path nor an existing file is a
 * mistyped command: say so and suggest the closest name.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';

/** The first argument that is not an option or an option's value (`--` ends option parsing). */
export function firstOperand(argv: string[], valueOptions: Set<string>): string | undefined {
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    if (arg === '--') return argv[index + 1];
    if (arg.startsWith('-') && arg !== '-') {
      if (!arg.includes('=') && valueOptions.has(arg)) index += 1;
      continue;
    }
    return arg;
  }
  return undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest name within a distance that still reads as a typo (a third of the word, at least 1). */
export function closest(word: string, names: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(word.toLowerCase(), name);
    if (distance <= Math.max(1, Math.floor(name.length / 3)) && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

export interface UnknownCommand {
  operand: string;
  suggestion: string | undefined;
}

/**
 * Returns the mistyped command when the first operand names no command, does not look like a path
 * and does not exist in `cwd`; undefined when the run should go ahead.
 */
export function unknownCommand(argv: string[], program: Command, cwd: string): UnknownCommand | undefined {
  const valueOptions = new Set<string>();
  const defaultCommand = program.commands.find((command) => command.name() === 'deploy');
  for (const option of [...program.options, ...(defaultCommand?.options ?? [])]) {
    if (!option.required && !option.optional) continue;
    if (option.long) valueOptions.add(option.long);
    if (option.short) valueOptions.add(option.short);
  }
  const operand = firstOperand(argv, valueOptions);
  if (operand === undefined) return undefined;
  const names = program.commands.flatMap((command) => [command.name(), ...command.aliases()]);
  if (names.includes(operand) || operand === 'help') return undefined;
  if (/[\\/.~]/.test(operand) || existsSync(path.resolve(cwd, operand))) return undefined;
  return { operand, suggestion: closest(operand, names) };
}

export interface UnknownSubcommand {
  /** The command group (`env`, `db`, `domain`, `auth`). */
  group: string;
  operand: string;
  suggestion: string | undefined;
  subcommands: string[];
}

/** Long and short names of the options that take a value. */
function valueOptionsOf(commands: Command[]): Set<string> {
  const names = new Set<string>();
  for (const command of commands) {
    for (const option of command.options) {
      if (!option.required && !option.optional) continue;
      if (option.long) names.add(option.long);
      if (option.short) names.add(option.short);
    }
  }
  return names;
}

/**
 * A command group's first operand must name one of its subcommands: a group with a default
 * subcommand (`env` lists, `auth` shows the status) would otherwise take a mistyped name as that
 * subcommand's argument ("Too many arguments for 'list'"). Only that one position is checked, so
 * the subcommands' own arguments (`env set KEY`) are never looked at. Undefined when the run should
 * go ahead.
 */
export function unknownSubcommand(argv: string[], program: Command): UnknownSubcommand | undefined {
  const groups = program.commands.filter((command) => command.commands.length > 0);
  const operands: { index: number; value: string }[] = [];
  const valueOptions = valueOptionsOf([program, ...groups, ...groups.flatMap((group) => group.commands)]);
  for (let index = 0; index < argv.length && operands.length < 2; index += 1) {
    const arg = argv[index]!;
    if (arg === '--') return undefined;
    if (arg.startsWith('-') && arg !== '-') {
      if (!arg.includes('=') && valueOptions.has(arg)) index += 1;
      continue;
    }
    operands.push({ index, value: arg });
  }
  const [first, second] = operands;
  if (!first || !second) return undefined;
  const group = groups.find((command) => command.name() === first.value || command.aliases().includes(first.value));
  if (!group) return undefined;
  const subcommands = group.commands.filter((command) => command.name() !== 'help').map((command) => command.name());
  const names = group.commands.flatMap((command) => [command.name(), ...command.aliases()]);
  if (names.includes(second.value) || second.value === 'help') return undefined;
  return { group: group.name(), operand: second.value, suggestion: closest(second.value, names), subcommands };
}
