/**
 * ASP.NET Core: the deployed project uses the `Microsoft.NET.Sdk.Web` SDK. Kestrel binds
 * localhost:5000 unless told otherwise, so the start command sets `ASPNETCORE_URLS` to listen on
 * 0.0.0.0:$PORT. Port: an address in code (`UseUrls`, `app.Run("http://0.0.0.0:5000")`) through the
 * port rules, else the container default: 8080 for .NET 8 and later, 80 before.
 * (Properties/launchSettings.json describes the developer's machine, not production, and is ignored.)
 */
import { dotnetVersionOf } from '../manifests-backend.js';
import { TIER, type Detection, type FrameworkDetector } from '../types.js';
import { dotnetProject } from './dotnet.js';

export const aspnet: FrameworkDetector = {
  id: 'aspnet',
  kind: 'framework',
  runtimes: ['dotnet'],
  async detect(ctx) {
    const found = await dotnetProject(ctx);
    if (!found || found.project.sdk !== 'Microsoft.NET.Sdk.Web') return null;
    const { project } = found;
    const evidence = `${project.path}: Sdk="Microsoft.NET.Sdk.Web"`;
    const detection: Detection = {
      id: 'aspnet',
      tier: TIER.backend,
      fields: { framework: { value: 'aspnet', evidence }, project_type: { value: 'web', evidence } },
    };
    const start = ctx.runtime.fields.scripts_start;
    if (start) {
      detection.fields.scripts_start = { value: `ASPNETCORE_URLS=http://0.0.0.0:$PORT ${start.value}`, evidence: `${start.evidence}; Kestrel listens where ASPNETCORE_URLS says` };
    }
    const tfm = project.targetFrameworks.map(dotnetVersionOf).find((v) => v !== undefined);
    const major = tfm ? Number(tfm.split('.')[0]) : undefined;
    detection.portDefault =
      major !== undefined && major < 8
        ? { value: 80, evidence: `${project.path}: .NET ${tfm} container default port 80` }
        : { value: 8080, evidence: `ASP.NET Core default container port 8080 (.NET 8+)${tfm ? `; ${project.path}: .NET ${tfm}` : ''}` };
    return detection;
  },
};
