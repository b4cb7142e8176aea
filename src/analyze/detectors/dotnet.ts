/**
 * .NET: a `*.csproj` in the folder (or an F# `*.fsproj` / Visual Basic `*.vbproj`, handled the same
 * way, language `fsharp` / `vbnet`), or a solution (`*.sln`, `*.slnx`) whose projects are read. The
 * project to deploy is the Web SDK one (test projects excluded), else a Worker SDK or Exe project.
 * Decides C#, the .NET version (global.json sdk.version, else the target framework), NuGet locking
 * (packages.lock.json, else declared versions without floating ranges), and the commands:
 * `dotnet publish [<project>] -c Release -o out` and `dotnet out/<AssemblyName>.dll`.
 * The aspnet detector refines it.
 */
import { dotnetVersionOf, parseCsproj, parseSln, type Csproj } from '../manifests-backend.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';

/** JSON that may carry comments and trailing commas (global.json, launchSettings.json). */
export function parseLooseJson(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else {
      out += c;
      i += 1;
    }
  }
  try {
    return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
  } catch {
    return undefined;
  }
}

const PROJECT_FILE = /\.(?:cs|fs|vb)proj$/;

/** The project files directly in a folder: *.csproj (parsed by manifests.ts), *.fsproj and *.vbproj. */
async function projectFiles(ctx: DetectContext, dir: string): Promise<Csproj[]> {
  const out = [...(await ctx.manifests.csprojs(dir))];
  for (const name of ctx.fs.list(dir)) {
    if (!/\.(?:fs|vb)proj$/.test(name)) continue;
    const rel = inDir(dir, name);
    const project = parseCsproj((await ctx.manifests.text(rel)) ?? '', rel);
    if (project) out.push(project);
    else ctx.warnings.add(`${rel} has no <Project> element; it was ignored`);
  }
  return out;
}

/** Project paths a solution references, F# and VB projects included (parseSln reads *.csproj). */
function solutionProjects(text: string): string[] {
  const others = [...text.matchAll(/^Project\("[^"]*"\)\s*=\s*"[^"]*"\s*,\s*"([^"]+\.(?:fs|vb)proj)"|<Project\s+Path="([^"]+\.(?:fs|vb)proj)"/gm)].map((m) => ((m[1] ?? m[2]) as string).replace(/\\/g, '/'));
  return [...parseSln(text), ...others];
}

/** C#, F# or Visual Basic, from the project file's extension. */
export function dotnetLanguage(project: Csproj): string {
  return project.path.endsWith('.fsproj') ? 'fsharp' : project.path.endsWith('.vbproj') ? 'vbnet' : 'csharp';
}

function isTestProject(project: Csproj): boolean {
  return /(?:^|[./])(?:Tests?|Specs?|UnitTests|IntegrationTests|Benchmarks?)\.(?:cs|fs|vb)proj$/i.test(project.path) || project.packages.some((p) => /^(?:Microsoft\.NET\.Test\.Sdk|xunit|NUnit|MSTest\.TestFramework)$/i.test(p.name));
}

/** The project to deploy: Web SDK, else Worker SDK, else an Exe; test projects never. */
export async function dotnetProject(ctx: DetectContext): Promise<{ project: Csproj; all: Csproj[]; via: string } | null> {
  let all = await projectFiles(ctx, ctx.dir);
  let via = '';
  if (all.length === 0) {
    const sln = ctx.fs.list(ctx.dir).find((name) => /\.slnx?$/.test(name));
    if (!sln) return null;
    via = inDir(ctx.dir, sln);
    const refs = solutionProjects((await ctx.manifests.text(via)) ?? '');
    for (const ref of refs.slice(0, 100)) {
      const rel = inDir(ctx.dir, ref);
      const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      const found = (await projectFiles(ctx, dir)).find((p) => p.path === rel);
      if (found) all = [...all, found];
    }
    if (all.length === 0) return null;
  }
  const candidates = all.filter((p) => !isTestProject(p));
  const web = candidates.filter((p) => p.sdk === 'Microsoft.NET.Sdk.Web');
  const project = web[0] ?? candidates.find((p) => p.sdk === 'Microsoft.NET.Sdk.Worker') ?? candidates.find((p) => /^(?:Exe|WinExe)$/i.test(p.outputType ?? '')) ?? candidates[0] ?? all[0];
  if (!project) return null;
  if (web.length > 1) ctx.warnings.add(`several ASP.NET projects (${web.map((p) => p.path).join(', ')}); ${project.path} was chosen, the others are not deployed`);
  return { project, all, via };
}

export function assemblyOf(project: Csproj): string {
  return project.assemblyName ?? (project.path.split('/').pop() as string).replace(PROJECT_FILE, '');
}

export const dotnet: RuntimeDetector = {
  id: 'dotnet',
  kind: 'runtime',
  refusalHint: {
    languages: ['csharp', 'fsharp', 'vbnet'],
    missingStart: 'no web, worker or executable project; add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const found = await dotnetProject(ctx);
    if (!found) return null;
    const { project, via } = found;
    const projectDir = project.path.includes('/') ? project.path.slice(0, project.path.lastIndexOf('/')) : '';
    const local = (rel: string): string => (ctx.dir === '' ? rel : rel.slice(ctx.dir.length + 1));
    const fields: Conclusions = {
      language: { value: dotnetLanguage(project), evidence: `${project.path}${via ? ` (from ${via})` : ''}` },
      package_manager: { value: 'nuget', evidence: `${project.path}: PackageReference restore` },
    };
    const assembly = assemblyOf(project);
    fields.name = { value: assembly, evidence: project.assemblyName ? `${project.path}: AssemblyName` : `${project.path} file name` };

    const globalJson = inDir(ctx.dir, 'global.json');
    const sdk = (parseLooseJson((await ctx.manifests.text(globalJson)) ?? '') as { sdk?: { version?: unknown } } | undefined)?.sdk?.version;
    const tfm = project.targetFrameworks.find((t) => dotnetVersionOf(t) !== undefined);
    if (typeof sdk === 'string' && sdk !== '') fields.language_version = { value: sdk, evidence: `${globalJson}: sdk.version` };
    else if (tfm) fields.language_version = { value: dotnetVersionOf(tfm) as string, evidence: `${project.path}: TargetFramework ${tfm}` };

    const lock = inDir(projectDir, 'packages.lock.json');
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'packages.lock.json', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (project.floating.length > 0) {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${project.path} has floating versions (${project.floating.slice(0, 3).join(', ')})` };
      ctx.warnings.add(`${project.path} has floating package versions (${project.floating.slice(0, 3).join(', ')}) and no packages.lock.json: clean cloud builds may restore different versions`);
    } else {
      fields.dependency_resolution = { value: 'locked', evidence: `${project.path} pins every PackageReference version (NuGet restores exactly those)` };
    }

    // `dotnet publish` with no argument needs exactly one project file in the folder.
    const alone = projectDir === ctx.dir && !via && found.all.length === 1;
    const target = alone ? '' : ` ${local(project.path)}`;
    fields.scripts_build = { value: `dotnet publish${target} -c Release -o out`, evidence: `${project.path}` };
    const program = ['Program.cs', 'Startup.cs', 'Program.fs', 'Program.vb'].map((file) => inDir(projectDir, file)).find((file) => ctx.fs.has(file));
    const detection: Detection = { id: 'dotnet', tier: TIER.bare, fields, toolchain: { install: '', runPrefix: '' } };
    if (program || /^(?:Exe|WinExe)$/i.test(project.outputType ?? '') || project.sdk === 'Microsoft.NET.Sdk.Web' || project.sdk === 'Microsoft.NET.Sdk.Worker') {
      fields.entry_point = { value: local(program ?? project.path), evidence: program ? `${program} exists` : `${project.path}` };
      fields.scripts_start = { value: `dotnet out/${assembly}.dll`, evidence: `${project.path}: assembly ${assembly}` };
      fields.project_type = { value: 'worker', evidence: `${project.path}: SDK ${project.sdk ?? 'Microsoft.NET.Sdk'} (not a web project)` };
      detection.tier = TIER.backend;
    } else {
      ctx.warnings.add(`${project.path} is a library (no Program.cs, OutputType Exe or Web SDK): nothing to run`);
    }
    return detection;
  },
};
