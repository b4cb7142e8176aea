/** A compose file as the analysis reads it: shared by the split (compose.ts) and the dev-file check (compose-dev.ts). */
import type { Engine } from './schema.js';

export interface ComposeService {
  name: string;
  image: string;
  /** Build context relative to the repository root (`''` for the root), or null without `build:`. */
  context: string | null;
  /** `build.dockerfile` relative to the repository root, or `''`. */
  dockerfile: string;
  /** The build context is outside the repository (`../x`, absolute, or a URL). */
  external: boolean;
  /** The build context is not a folder of the repository (installed by a package manager, or absent). */
  missing: boolean;
  /** `build.target` (multi-stage target), or `''`. */
  target: string;
  /** `build.args`, normalised (`A=1\nB=2`): one Dockerfile built with other args is another app. */
  args: string;
  /** Another service whose image this one runs (`image:` equal to that service's built image), or `''`. */
  imageOf: string;
  /** Host side of bind-mount volumes, relative to the repository root (named volumes are left out). */
  mounts: string[];
  command: string;
  dependsOn: string[];
  profiles: string[];
  ports: Array<{ port: number; evidence: string }>;
  envNames: Array<{ name: string; evidence: string }>;
  /** `environment:` values, to see which database service a URL points at. */
  envValues: string[];
  engine: Engine | null;
}

export interface ComposeFile {
  path: string;
  services: ComposeService[];
  /** Why the file is a development environment (not production evidence), or `''`. */
  development: string;
}
