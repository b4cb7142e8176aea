import { writeProjectState } from './state.js';
import type { DeployContext } from './context.js';

/** Saves project.json; called after every stage, before its "done" event is reported. */
export async function saveState(ctx: DeployContext): Promise<void> {
  await writeProjectState(ctx.inputs.root, ctx.state);
}
