/**
 * Types of the gateway client: response types are inferred from the zod schemas (so the parsed value
 * and its type cannot drift apart); request bodies are declared here.
 */
import type { z } from 'zod';
import type {
  DependencySchema,
  DeploymentSchema,
  LogLineSchema,
  ProfileSchema,
  ProjectSchema,
  RegionSchema,
  RegisterResponseSchema,
  ServiceDomainSchema,
  ServiceSchema,
  UpdateSourceResponseSchema,
  UploadOnlyResponseSchema,
  VolumeSpecSchema,
} from './schemas.js';

export type RegisterResponse = z.output<typeof RegisterResponseSchema>;
export type Profile = z.output<typeof ProfileSchema>;
export type Region = z.output<typeof RegionSchema>;
export type Project = z.output<typeof ProjectSchema>;
export type Dependency = z.output<typeof DependencySchema>;
export type Service = z.output<typeof ServiceSchema>;
export type Deployment = z.output<typeof DeploymentSchema>;
export type LogLine = z.output<typeof LogLineSchema>;
export type ServiceDomain = z.output<typeof ServiceDomainSchema>;
export type UploadOnlyResponse = z.output<typeof UploadOnlyResponseSchema>;
export type UpdateSourceResponse = z.output<typeof UpdateSourceResponseSchema>;
export type VolumeSpec = z.output<typeof VolumeSpecSchema>;

export interface RegisterBody {
  source_hint: string;
  name?: string;
  hostname?: string;
}

export interface CreateProjectBody {
  name: string;
  /** Git URL, or `file://upload` for uploaded archives. */
  repo_url: string;
  branch?: string;
  /** Git token for private repositories (the request body is never logged). */
  token?: string;
  region_id?: string;
  skip_validation?: boolean;
  build_config?: string;
  deploy_config?: string;
  description?: string;
}

/** Kubernetes resource strings (`"500m"`, `"1"`, `"512Mi"`, `"1Gi"`). */
export interface ServiceResources {
  cpu_request?: string;
  cpu_limit?: string;
  memory_request?: string;
  memory_limit?: string;
  replicas?: number;
}

export type ServiceType = 'web' | 'worker' | 'cron' | 'static';

export interface CreateServiceBody extends ServiceResources {
  name: string;
  type: ServiceType | (string & {});
  environment?: string;
  language?: string;
  framework?: string;
  port?: number;
  source_path?: string;
  dockerfile?: string;
  dockerfile_path?: string;
  build_context?: string;
  build_command?: string;
  start_command?: string;
  build_variables?: Record<string, string>;
  runtime_variables?: Record<string, string>;
  health_check_path?: string;
  readiness_path?: string;
  auto_scaling?: boolean;
  /** Sibling service names (not DB dependency ids). */
  dependencies?: string[];
  internal_only?: boolean;
  volumes?: { name: string; mount_path: string; size: string }[];
}

/** `PUT /v1/services/:id` — partial update (resize without redeploy, and a few settings). */
export type UpdateServiceBody = Partial<
  ServiceResources & {
    port: number;
    start_command: string;
    build_command: string;
    health_check_path: string;
    dockerfile_path: string;
    internal_only: boolean;
  }
>;

export interface CreateDependencyBody {
  project_id: string;
  /** `postgres` | `mysql` | `mongodb` | `redis` | `clickhouse` (seed names). */
  dependency_id: string;
  environment?: string;
  /** Client-chosen credentials (the gateway generates them when omitted). */
  username?: string;
  password?: string;
  database_name?: string;
}

/**
 * `POST /v1/deployments/` body. There is deliberately no `resources` field: the deployment service
 * expects numeric cores there and 400s on Kubernetes strings; the service row is authoritative.
 */
export interface CreateDeploymentBody {
  project_id: string;
  service_id: string;
  environment?: string;
  /** `zip` for uploaded archives, `git` for repository sources. */
  source: 'zip' | 'git' | (string & {});
  temp_file_path: string;
  branch?: string;
  /** DB dependency instance ids. */
  dependencies?: string[];
  strategy?: string;
  version_type?: 'major' | 'minor' | 'patch';
  description?: string;
  file_name?: string;
  source_path?: string;
  runtime_variables?: Record<string, string>;
  build_variables?: Record<string, string>;
  /** Never sent: see the type comment. */
  resources?: never;
}

export interface UpdateSourceBody {
  project_id: string;
  temp_file_path: string;
  analysis?: unknown;
}

export interface UploadFileInput {
  projectName: string;
  regionId: string;
  /** Path of a ZIP archive on disk; streamed, never read into memory. */
  filePath: string;
  /** Name of the file part; must end in `.zip` (default: the base name of filePath, `.zip` enforced). */
  fileName?: string;
  description?: string;
  onProgress?: (sentBytes: number, totalBytes: number) => void;
}

export interface UploadGitInput {
  projectName: string;
  regionId: string;
  gitUrl: string;
  branch?: string;
  gitToken?: string;
  description?: string;
}

export type UploadOnlyInput = UploadFileInput | UploadGitInput;

export interface SseEvent {
  event: string;
  data: unknown;
  id?: string;
}

export interface RequestInfo {
  method: string;
  path: string;
  status?: number;
  attempt: number;
  ms: number;
  error?: string;
}
