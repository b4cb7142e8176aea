/**
 * commander, required rather than imported: its ES module entry wraps the CommonJS build, and
 * importing it makes Node run its exports lexer on every start. Everything in src/cli takes
 * commander's classes from here.
 */
import type * as Commander from 'commander';
import { requireCjs } from '../core/cjs.js';

const commander = requireCjs('commander') as typeof Commander;

export const { Argument, Command, CommanderError, Help, Option } = commander;
