/**
 * `.gitignore` / `.opendeployignore` evaluation with git's relative semantics.
 *
 * Git decides a path with the patterns of every `.gitignore` from the path's folder up to the
 * repository root, deeper files winning over shallower ones and later lines over earlier ones; a
 * path inside an excluded folder is excluded whatever the deeper files say. That is exactly "one
 * pattern list, last match wins, excluded parents stay excluded", provided each nested file's
 * patterns are rewritten to be relative to one origin and appended after the shallower ones. So
 * instead of stacking one `ignore` instance per file (whose verdicts cannot be combined correctly:
 * `ignore` reports a child as ignored because of its parent even when a deeper file re-included that
 * parent), every folder with a `.gitignore` gets one `ignore` instance holding the rewritten patterns
 * of its whole chain, and folders without one share their parent's instance.
 *
 * `.opendeployignore` and `extraIgnore` patterns go last, so they win over `.gitignore`, including
 * with `!negations` that re-include a gitignored path. They cannot re-include the built-in
 * exclusions of rules.ts, which are checked before these rules.
 *
 * Matching is case-sensitive, as git is on the Linux builders that receive the archive.
 */
import type IgnoreFactory from 'ignore';
import { requireCjs } from '../core/cjs.js';

// required, not imported: see core/cjs.ts for what importing it costs.
const ignore = requireCjs('ignore') as typeof IgnoreFactory;

type Matcher = ReturnType<typeof ignore>;

/**
 * Largest ignore file read (`.gitignore`, `.opendeployignore`): a bigger file is read up to here
 * only. Without a cap a generated 1,000,000-line `.gitignore` exhausted the heap.
 */
export const IGNORE_FILE_MAX_BYTES = 256 * 1024;

/**
 * Most patterns in force in one folder (its whole chain of ignore files). Every path is tested
 * against every pattern, so the cost of a walk grows with patterns × files: 1,000 patterns cost
 * about 0.4 ms per path, 5,000 about 4 ms. Patterns past the cap are dropped with a warning (the
 * built-in exclusions and secret rules still apply: they do not depend on these patterns).
 */
export const MAX_IGNORE_PATTERNS = 2000;

/** Characters that are special in a gitignore pattern and must be escaped in a literal folder name. */
const GLOB_SPECIAL = /[\\*?[\]]/g;

function escapeLiteral(segment: string): string {
  return segment.replace(GLOB_SPECIAL, (ch) => `\\${ch}`);
}

/**
 * Rewrites one gitignore line written in folder `base` (origin-relative, no trailing slash, `''` for
 * the origin itself) so it means the same thing when evaluated from the origin. Comments and blank
 * lines become `null`.
 *
 * Git's rule: a pattern with a slash at the start or in the middle is anchored to its file's folder;
 * otherwise it matches at any depth below it (a trailing slash only restricts it to folders).
 */
export function rebasePattern(line: string, base: string): string | null {
  if (line.trim() === '' || line.startsWith('#')) return null;
  if (base === '') return line;
  let negation = '';
  let body = line;
  if (body.startsWith('!')) {
    negation = '!';
    body = body.slice(1);
  }
  const prefix = base.split('/').map(escapeLiteral).join('/');
  const withoutTrailingSlash = body.endsWith('/') ? body.slice(0, -1) : body;
  const anchored = withoutTrailingSlash.includes('/');
  if (anchored) {
    const rest = body.startsWith('/') ? body.slice(1) : body;
    return `${negation}/${prefix}/${rest}`;
  }
  return `${negation}/${prefix}/**/${body}`;
}

/** Rewrites a whole rules file; see `rebasePattern`. */
export function rebaseRules(text: string, base: string): string[] {
  const out: string[] = [];
  // A UTF-8 BOM at the start of the file is not part of the first pattern.
  for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const rebased = rebasePattern(line, base);
    if (rebased !== null) out.push(rebased);
  }
  return out;
}

/** A rules source: the file's text and its folder relative to the evaluation origin. */
export interface RulesSource {
  base: string;
  text: string;
}

/** Options of every matcher. */
const MATCHER_OPTIONS = {
  ignorecase: false,
  // Never let the matcher throw on a real file name (some `ignore` releases took names like `...`
  // for a non-relative path and threw).
  allowRelativePaths: true,
} as const;

/**
 * How many paths one `ignore` instance is asked about, per PATTERNS_PER_STEP patterns in force,
 * before a fresh one takes over (see `IgnoreRules.ignores`).
 */
export const MATCHER_PATHS = 256;
const PATTERNS_PER_STEP = 32;

/**
 * The ignore rules in force in one folder of the walk. The rules are immutable: `withGitignore`
 * returns a new instance for a subfolder that has its own `.gitignore`, so concurrent walks of
 * sibling folders never see each other's rules.
 */
export class IgnoreRules {
  /** The compiled patterns; paths are matched through `current` (see `ignores`). */
  private readonly compiled: Matcher;
  private current: Matcher | undefined;
  /** Paths `current` has been asked about. */
  private asked = 0;
  /** Paths one instance serves (see `ignores`). */
  private readonly servedPaths: number;
  /** Patterns dropped by MAX_IGNORE_PATTERNS in this folder's chain (0 when none). */
  readonly droppedPatterns: number;

  private constructor(
    /** Path of the source root relative to the evaluation origin, `''` or ending in `/`. */
    private readonly prefix: string,
    gitPatterns: readonly string[],
    private readonly lastPatterns: readonly string[],
  ) {
    // `.opendeployignore` patterns are kept first: they are the user's words to opendeploy. The
    // `.gitignore` chain fills what is left, shallowest (earliest) patterns first.
    const room = Math.max(0, MAX_IGNORE_PATTERNS - lastPatterns.length);
    const keptLast = lastPatterns.slice(0, MAX_IGNORE_PATTERNS);
    this.gitPatterns = gitPatterns.length > room ? gitPatterns.slice(0, room) : gitPatterns;
    this.droppedPatterns = gitPatterns.length - this.gitPatterns.length + (lastPatterns.length - keptLast.length);
    this.patternCount = this.gitPatterns.length + keptLast.length;
    this.servedPaths = MATCHER_PATHS * Math.max(1, Math.ceil(this.patternCount / PATTERNS_PER_STEP));
    this.compiled = ignore(MATCHER_OPTIONS).add([...this.gitPatterns, ...keptLast]);
  }

  /** Patterns in force (after the cap). */
  private readonly patternCount: number;

  private readonly gitPatterns: readonly string[];

  /**
   * @param prefix  the source root relative to the evaluation origin (the enclosing git repository
   *                root when `.gitignore` files above the source root apply), `''` or ending in `/`
   * @param outer   `.gitignore` files above the source root, shallowest first, bases origin-relative
   * @param last    `.opendeployignore` text and extra patterns, relative to the source root
   */
  static create(prefix: string, outer: readonly RulesSource[], last: readonly string[]): IgnoreRules {
    const git = outer.flatMap((source) => rebaseRules(source.text, source.base));
    const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    const tail = last.flatMap((text) => rebaseRules(text, base));
    return new IgnoreRules(prefix, git, tail);
  }

  /** Rules for a folder (source-root-relative `relDir`) that holds a `.gitignore` with `text`. */
  withGitignore(relDir: string, text: string): IgnoreRules {
    const base = `${this.prefix}${relDir}`.replace(/\/$/, '');
    const added = rebaseRules(text, base);
    if (added.length === 0) return this;
    return new IgnoreRules(this.prefix, [...this.gitPatterns, ...added], this.lastPatterns);
  }

  /**
   * Whether the source root itself is ignored by the `.gitignore` files above it (only possible
   * when the root is a subfolder of a repository).
   */
  ignoresRoot(): boolean {
    return this.prefix !== '' && this.compiled.ignores(this.prefix);
  }

  /**
   * Whether a source-root-relative path (forward slashes) is ignored.
   *
   * `ignore` remembers the verdict of every path it is asked about, and of each of its parent
   * folders, for as long as the instance lives. One instance for a whole 20,000-file walk held an
   * entry and a result object per path until the walk ended, all of it promoted to the old
   * generation, where it stayed for the rest of the process (2.2 MiB of that walk's peak memory,
   * with a 13-line .gitignore). So a fresh instance takes over every `servedPaths` paths: the
   * verdicts are the same (the cache only remembers them), it shares the compiled rules (adding an
   * instance copies its list of rules, not the patterns), and the old one's memory goes while
   * still young.
   *
   * A fresh instance works out again the verdicts of the parent folders it meets, each one a scan
   * of every pattern. With few patterns that costs no measurable time, even on a tree of 630
   * folders six deep; with 2,000 patterns, 256 paths per instance made that tree's walk 40%
   * slower. So an instance serves MATCHER_PATHS paths per PATTERNS_PER_STEP patterns, which keeps
   * that extra time about the same whatever the number of patterns. Rules with no pattern at all
   * ignore nothing.
   */
  ignores(rel: string, isDir: boolean): boolean {
    if (this.patternCount === 0) return false;
    if (this.current === undefined || this.asked >= this.servedPaths) {
      this.current = ignore(MATCHER_OPTIONS).add(this.compiled);
      this.asked = 0;
    }
    this.asked += 1;
    return this.current.ignores(`${this.prefix}${rel}${isDir ? '/' : ''}`);
  }
}
