/** `opendeploy mcp` run as a real child process, with the official MCP SDK's client on its stdio. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN } from './cli.js';

export interface McpServer {
  client: Client;
  stderr: () => string;
  /** Lines on stdout that were not protocol messages (the transport reports them as errors). */
  protocolErrors: Error[];
  /** Every text the server returned, for leak checks. */
  texts: string[];
  close(): Promise<void>;
}

/** Starts `opendeploy mcp <args>` in `cwd` with exactly `env` (nothing inherited). */
export async function startMcpServer(cwd: string, args: string[], env: Record<string, string>): Promise<McpServer> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', ...args], cwd, env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const protocolErrors: Error[] = [];
  const client = new Client({ name: 'opendeploy-test', version: '1.0.0' });
  await client.connect(transport);
  transport.onerror = (error) => protocolErrors.push(error);
  return { client, stderr: () => stderr, protocolErrors, texts: [], close: () => client.close() };
}

export interface ToolCall {
  isError: boolean;
  structured: Record<string, unknown>;
  text: string;
}

/** Calls a tool (60 s timeout), recording its text in `server.texts`. */
export async function callTool(
  server: McpServer,
  name: string,
  args: Record<string, unknown> = {},
  onprogress?: (progress: { progress: number; total?: number }) => void,
): Promise<ToolCall> {
  const result = (await server.client.callTool({ name, arguments: args }, undefined, { timeout: 60_000, ...(onprogress ? { onprogress } : {}) })) as {
    isError?: boolean;
    structuredContent?: Record<string, unknown>;
    content: { type: string; text?: string }[];
  };
  const text = result.content.map((item) => item.text ?? '').join('\n');
  server.texts.push(text);
  return { isError: result.isError === true, structured: result.structuredContent ?? {}, text };
}
