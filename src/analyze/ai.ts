/**
 * AI provider configuration (the analysis's `ai_config`): providers from SDK dependencies and
 * provider-specific env names. Generic `_TOKEN` / `_KEY` names (OAuth, payments, storage, SMTP,
 * GITHUB_TOKEN) are never classified as AI without provider evidence.
 */
import { describeDependency } from './databases.js';
import type { Dependency } from './manifests.js';
import type { AiConfig, Evidence } from './schema.js';

const SDK_PROVIDERS: Readonly<Record<string, string>> = {
  // npm
  openai: 'openai',
  '@ai-sdk/openai': 'openai',
  '@langchain/openai': 'openai',
  '@anthropic-ai/sdk': 'anthropic',
  '@ai-sdk/anthropic': 'anthropic',
  '@langchain/anthropic': 'anthropic',
  '@google/generative-ai': 'gemini',
  '@google/genai': 'gemini',
  '@ai-sdk/google': 'gemini',
  'groq-sdk': 'groq',
  '@ai-sdk/groq': 'groq',
  '@mistralai/mistralai': 'mistral',
  '@ai-sdk/mistral': 'mistral',
  '@ai-sdk/deepseek': 'deepseek',
  '@ai-sdk/xai': 'xai',
  'together-ai': 'together',
  '@openrouter/ai-sdk-provider': 'openrouter',
  'cohere-ai': 'cohere',
  // PyPI (normalised names)
  anthropic: 'anthropic',
  'langchain-openai': 'openai',
  'langchain-anthropic': 'anthropic',
  'google-generativeai': 'gemini',
  'google-genai': 'gemini',
  groq: 'groq',
  mistralai: 'mistral',
  together: 'together',
  dashscope: 'dashscope',
  cohere: 'cohere',
  'volcengine-python-sdk': 'volcengine',
};

const KEY_VARS: Readonly<Record<string, string>> = {
  OPENAI_API_KEY: 'openai',
  AZURE_OPENAI_API_KEY: 'openai',
  ANTHROPIC_API_KEY: 'anthropic',
  GEMINI_API_KEY: 'gemini',
  GOOGLE_GENERATIVE_AI_API_KEY: 'gemini',
  OPENROUTER_API_KEY: 'openrouter',
  GROQ_API_KEY: 'groq',
  MISTRAL_API_KEY: 'mistral',
  DEEPSEEK_API_KEY: 'deepseek',
  TOGETHER_API_KEY: 'together',
  PERPLEXITY_API_KEY: 'perplexity',
  PPLX_API_KEY: 'perplexity',
  DASHSCOPE_API_KEY: 'dashscope',
  QWEN_API_KEY: 'qwen',
  ARK_API_KEY: 'volcengine',
  VOLCENGINE_API_KEY: 'volcengine',
  XAI_API_KEY: 'xai',
  COHERE_API_KEY: 'cohere',
};

const BASE_URL_VARS: Readonly<Record<string, string>> = {
  OPENAI_BASE_URL: 'openai',
  OPENAI_API_BASE: 'openai',
  AZURE_OPENAI_ENDPOINT: 'openai',
  ANTHROPIC_BASE_URL: 'anthropic',
  OPENROUTER_BASE_URL: 'openrouter',
  GROQ_BASE_URL: 'groq',
  DEEPSEEK_BASE_URL: 'deepseek',
  GEMINI_BASE_URL: 'gemini',
};

export function detectAi(deps: Dependency[], envNames: Map<string, string>): { config: AiConfig; evidence: Evidence[] } {
  const providers = new Map<string, string>();
  for (const dep of deps) {
    if (dep.dev) continue;
    const provider = SDK_PROVIDERS[dep.name];
    if (provider && !providers.has(provider)) providers.set(provider, describeDependency(dep));
  }
  const apiKeyVars: string[] = [];
  const baseUrlVars: string[] = [];
  for (const [name, source] of envNames) {
    const keyProvider = KEY_VARS[name];
    if (keyProvider) {
      apiKeyVars.push(name);
      if (!providers.has(keyProvider)) providers.set(keyProvider, `env ${name} (${source})`);
    }
    const urlProvider = BASE_URL_VARS[name];
    if (urlProvider) baseUrlVars.push(name);
  }
  const detected = [...providers.keys()].sort();
  const evidence: Evidence[] = detected.map((provider) => ({ decision: 'ai_provider', value: provider, evidence: providers.get(provider) as string }));
  return {
    config: {
      requires_ai_api_key: detected.length > 0,
      detected_providers: detected,
      api_key_vars: apiKeyVars.sort(),
      base_url_vars: baseUrlVars.sort(),
    },
    evidence,
  };
}
