/**
 * iptables-restore reader for the filter table, following iptables-nft 1.8.9: the same tokenizer
 * (whitespace, double quotes with backslash escapes), the same option dispatch (an option goes to the
 * first loaded match that knows it; a `-p tcp|udp|icmp` rule loads its protocol match implicitly), the
 * same checks and normalisations. What iptables would accept but Rampart does not implement is rejected
 * with `NF_UNSUPPORTED`; malformed input with `NF_SYNTAX`; both name the line, the column and the token.
 */
import { InputError } from '../../common/errors.js';
import { decodeUtf8, encodeUtf8 } from '../../common/utf8.js';
import { tryParseIpv4 } from '../net/address.js';
import {
  CtState,
  type CtStateName,
  LOG_LEVELS,
  TCP_FLAG_NAMES,
  parseIcmpType,
  parsePort,
  parseProtocol,
  parseRejectWith,
  protocolName,
  strtoui,
} from './names.js';
import {
  BUILTIN_CHAINS,
  type BuiltinChain,
  type Chain,
  type Counters,
  type AddressMatch,
  type LogOptions,
  type Match,
  type Policy,
  type PortMatch,
  type PortRange,
  type Rule,
  type Ruleset,
  type Target,
} from './ruleset.js';

export interface ParseOptions {
  /** File name used in error locations. */
  readonly file?: string;
}

interface Token {
  readonly text: string;
  /** 1-based column of the token's first character. */
  readonly column: number;
}

/** Matches and targets iptables has but Rampart does not implement: named so the error can say so. */
const KNOWN_UNSUPPORTED_MATCHES = new Set([
  'addrtype',
  'ah',
  'bpf',
  'cgroup',
  'cluster',
  'connbytes',
  'connlabel',
  'connlimit',
  'connmark',
  'cpu',
  'dccp',
  'devgroup',
  'dscp',
  'ecn',
  'esp',
  'hashlimit',
  'helper',
  'ipcomp',
  'ipvs',
  'length',
  'mac',
  'mark',
  'nfacct',
  'osf',
  'owner',
  'physdev',
  'pkttype',
  'policy',
  'quota',
  'rateest',
  'realm',
  'recent',
  'rpfilter',
  'sctp',
  'set',
  'socket',
  'statistic',
  'string',
  'tcpmss',
  'time',
  'tos',
  'ttl',
  'u32',
  'udplite',
]);
const KNOWN_UNSUPPORTED_TARGETS = new Set([
  'AUDIT',
  'CHECKSUM',
  'CLASSIFY',
  'CLUSTERIP',
  'CONNMARK',
  'CONNSECMARK',
  'CT',
  'DNAT',
  'DSCP',
  'ECN',
  'HMARK',
  'IDLETIMER',
  'LED',
  'MARK',
  'MASQUERADE',
  'NETMAP',
  'NFLOG',
  'NFQUEUE',
  'NOTRACK',
  'RATEEST',
  'REDIRECT',
  'SECMARK',
  'SET',
  'SNAT',
  'SYNPROXY',
  'TCPMSS',
  'TCPOPTSTRIP',
  'TEE',
  'TOS',
  'TPROXY',
  'TRACE',
  'TTL',
  'ULOG',
]);
const STANDARD_TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'REJECT', 'LOG']);
const IFNAMSIZ = 16;
const MAX_CHAIN_NAME = 28;
const MULTIPORT_MAX = 15;
const LIMIT_SCALE = 10000;
const LOG_PREFIX_MAX = 29;
const COMMENT_MAX = 255;
const U64_MAX = (1n << 64n) - 1n;

/** Reads an iptables-save / iptables-restore file holding the filter table. */
export function parseRuleset(text: string, options: ParseOptions = {}): Ruleset {
  return new RestoreParser(text, options.file).parse();
}

interface ChainBuilder {
  name: string;
  builtin: boolean;
  policy?: Policy;
  policyCounters: Counters;
  rules: Rule[];
  line: number;
}

class RestoreParser {
  private readonly lines: string[];
  private chains = new Map<string, ChainBuilder>();
  private lineNo = 0;
  private inTable = false;
  private sawFilter = false;

  constructor(
    text: string,
    private readonly file: string | undefined,
  ) {
    this.lines = text.split('\n');
  }

  parse(): Ruleset {
    this.resetChains();
    for (let i = 0; i < this.lines.length; i++) {
      this.lineNo = i + 1;
      const raw = (this.lines[i] ?? '').replace(/\r$/, '');
      const line = raw.trimStart();
      const indent = raw.length - line.length;
      if (line === '' || line.startsWith('#')) continue;
      if (line.startsWith('*')) this.table(line, indent);
      else if (!this.inTable)
        throw this.syntax(`'${firstWord(line)}' outside a table (expected '*filter')`, indent + 1);
      else if (line.startsWith(':')) this.chainLine(line, indent);
      else if (/^COMMIT\s*$/.test(line)) this.inTable = false;
      else this.ruleLine(line, indent);
    }
    if (this.inTable) throw this.syntax('COMMIT expected before the end of the file', 1, this.lines.length);
    if (!this.sawFilter) throw this.syntax('no *filter table in the file', 1, 1);
    const ruleset: Ruleset = {
      chains: [...this.chains.values()].map((c): Chain =>
        c.builtin
          ? {
              name: c.name,
              builtin: true,
              policy: c.policy ?? 'ACCEPT',
              policyCounters: c.policyCounters,
              rules: c.rules,
            }
          : { name: c.name, builtin: false, policyCounters: c.policyCounters, rules: c.rules },
      ),
    };
    this.checkLoops(ruleset);
    return ruleset;
  }

  private resetChains(): void {
    this.chains = new Map();
    for (const name of BUILTIN_CHAINS)
      this.chains.set(name, {
        name,
        builtin: true,
        policy: 'ACCEPT',
        policyCounters: zero(),
        rules: [],
        line: 0,
      });
  }

  private table(line: string, indent: number): void {
    const name = line.slice(1).trim();
    if (this.inTable)
      throw this.syntax(`table '${name}' starts before COMMIT of the previous one`, indent + 1);
    if (name !== 'filter') {
      if (['nat', 'mangle', 'raw', 'security'].includes(name))
        throw this.unsupported(`table '${name}': only the filter table is supported`, indent + 1);
      throw this.syntax(`unknown table '${name}'`, indent + 1);
    }
    if (this.sawFilter) throw this.syntax(`table 'filter' appears twice`, indent + 1);
    this.sawFilter = true;
    this.inTable = true;
  }

  /** `:NAME POLICY [packets:bytes]` */
  private chainLine(line: string, indent: number): void {
    const tokens = tokenize(line.slice(1), indent + 2, this.lineNo, this.file);
    const [name, policy, counters, extra] = tokens;
    if (!name || !policy) throw this.syntax(`chain line needs a name and a policy`, indent + 1);
    if (extra) throw this.syntax(`unexpected '${extra.text}' after the chain counters`, extra.column);
    const builtin = (BUILTIN_CHAINS as readonly string[]).includes(name.text);
    const parsedCounters = counters ? this.counters(counters) : zero();
    if (builtin) {
      if (policy.text !== 'ACCEPT' && policy.text !== 'DROP')
        throw this.syntax(
          `bad policy '${policy.text}' for built-in chain ${name.text} (ACCEPT or DROP)`,
          policy.column,
        );
      const c = this.chains.get(name.text);
      if (c && c.line !== 0) throw this.syntax(`chain ${name.text} declared twice`, name.column);
      this.chains.set(name.text, {
        name: name.text,
        builtin: true,
        policy: policy.text,
        policyCounters: parsedCounters,
        rules: c?.rules ?? [],
        line: this.lineNo,
      });
      return;
    }
    this.checkChainName(name);
    if (policy.text !== '-')
      throw this.syntax(
        `user chain ${name.text} cannot have a policy ('${policy.text}'); use '-'`,
        policy.column,
      );
    if (this.chains.has(name.text)) throw this.syntax(`chain ${name.text} declared twice`, name.column);
    this.chains.set(name.text, {
      name: name.text,
      builtin: false,
      policyCounters: parsedCounters,
      rules: [],
      line: this.lineNo,
    });
  }

  private checkChainName(name: Token): void {
    if (name.text.length > MAX_CHAIN_NAME)
      throw this.syntax(`chain name '${name.text}' longer than ${MAX_CHAIN_NAME} characters`, name.column);
    if (name.text.startsWith('-') || name.text === '!')
      throw this.syntax(`invalid chain name '${name.text}'`, name.column);
    if (STANDARD_TARGETS.has(name.text) || KNOWN_UNSUPPORTED_TARGETS.has(name.text))
      throw this.syntax(`chain name '${name.text}' is a target name`, name.column);
  }

  private counters(tok: Token): Counters {
    const m = /^\[([0-9]+):([0-9]+)\]$/.exec(tok.text);
    if (!m) throw this.syntax(`bad counters '${tok.text}' (expected [packets:bytes])`, tok.column);
    return {
      packets: this.counter(m[1]!, 'packets', tok.column + 1),
      bytes: this.counter(m[2]!, 'bytes', tok.column + 2 + m[1]!.length),
    };
  }

  /**
   * One counter, read exactly. iptables-nft 1.8.9 saturates a value past 2^64-1 to 2^64-1 (strtoull);
   * Rampart refuses it instead, and refuses past 2^53-1 since counters are kept as exact JS numbers.
   */
  private counter(digits: string, field: 'packets' | 'bytes', column: number): number {
    const n = BigInt(digits);
    const at = { ...this.where(this.lineNo, column), field };
    if (n > U64_MAX)
      throw new InputError('NF_SYNTAX', `${field} counter ${digits} is past 2^64-1 (the kernel's u64)`, at);
    if (n > BigInt(Number.MAX_SAFE_INTEGER))
      throw new InputError(
        'NF_SYNTAX',
        `${field} counter ${digits} is past 2^53-1 (Number.MAX_SAFE_INTEGER), the largest counter Rampart keeps exactly`,
        at,
      );
    return Number(n);
  }

  private ruleLine(line: string, indent: number): void {
    const tokens = tokenize(line, indent + 1, this.lineNo, this.file);
    let at = 0;
    let counters = zero();
    if (tokens[0]?.text.startsWith('[')) {
      counters = this.counters(tokens[0]);
      at = 1;
    }
    const command = tokens[at];
    if (!command) throw this.syntax('empty rule', indent + 1);
    let insertAt: number | undefined;
    if (
      command.text === '-A' ||
      command.text === '--append' ||
      command.text === '-I' ||
      command.text === '--insert'
    ) {
      const chainTok = tokens[at + 1];
      if (!chainTok) throw this.syntax(`${command.text} needs a chain name`, command.column);
      const chain = this.chains.get(chainTok.text);
      if (!chain) throw this.syntax(`chain '${chainTok.text}' does not exist`, chainTok.column);
      at += 2;
      if (command.text === '-I' || command.text === '--insert') {
        const pos = tokens[at] && /^\d+$/.test(tokens[at]!.text) ? Number(tokens[at]!.text) : undefined;
        if (pos !== undefined) {
          if (pos < 1 || pos > chain.rules.length + 1)
            throw this.syntax(`index of insertion ${pos} too big`, tokens[at]!.column);
          at++;
        }
        insertAt = (pos ?? 1) - 1;
      }
      const rules = new RuleParser(this, chain.name, tokens.slice(at), counters, this.lineNo).parse();
      if (insertAt === undefined) chain.rules.push(...rules);
      else chain.rules.splice(insertAt, 0, ...rules);
      return;
    }
    if (
      /^(-[NXPFZDRE]|--(new-chain|delete-chain|policy|flush|zero|delete|replace|rename-chain))$/.test(
        command.text,
      )
    )
      throw this.unsupported(
        `command '${command.text}' in a restore file: declare chains with ':' lines and append rules with -A`,
        command.column,
      );
    throw this.syntax(`bad argument '${command.text}' (a rule starts with -A CHAIN)`, command.column);
  }

  hasChain(name: string): boolean {
    return this.chains.has(name);
  }

  isBuiltin(name: string): boolean {
    return this.chains.get(name)?.builtin ?? false;
  }

  syntax(detail: string, column: number, line = this.lineNo): InputError {
    return new InputError('NF_SYNTAX', detail, this.where(line, column));
  }

  unsupported(detail: string, column: number, line = this.lineNo): InputError {
    return new InputError('NF_UNSUPPORTED', detail, this.where(line, column));
  }

  private where(line: number, column: number) {
    return this.file === undefined ? { line, column } : { file: this.file, line, column };
  }

  /**
   * Jumps and gotos must not form a cycle (the kernel refuses such a table with ELOOP), nor reach a chain
   * through `MAX_JUMP_DEPTH` of them from a built-in chain (nf_tables' NFT_JUMP_STACK_SIZE: EMLINK).
   * Both walks are iterative, so a ruleset of any size cannot overflow the stack.
   */
  private checkLoops(ruleset: Ruleset): void {
    const edges = new Map<string, { to: string; line: number }[]>();
    for (const c of ruleset.chains)
      edges.set(
        c.name,
        c.rules.flatMap((r) =>
          r.target.kind === 'jump' || r.target.kind === 'goto' ? [{ to: r.target.chain, line: r.line }] : [],
        ),
      );
    const at = (line: number) => (this.file === undefined ? { line } : { file: this.file, line });
    const state = new Map<string, 'open' | 'done'>();
    for (const c of ruleset.chains) {
      if (state.has(c.name)) continue;
      // Depth-first, with the chains on the current path and the next edge of each.
      const stack: { name: string; next: number }[] = [{ name: c.name, next: 0 }];
      state.set(c.name, 'open');
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        const e = edges.get(top.name)?.[top.next++];
        if (e === undefined) {
          state.set(top.name, 'done');
          stack.pop();
          continue;
        }
        const s = state.get(e.to);
        if (s === 'open') {
          const names = stack.map((f) => f.name);
          throw new InputError(
            'NF_LOOP',
            `jumps form a loop: ${[...names.slice(names.indexOf(e.to)), e.to].join(' -> ')}`,
            at(e.line),
          );
        }
        if (s === undefined) {
          state.set(e.to, 'open');
          stack.push({ name: e.to, next: 0 });
        }
      }
    }
    // The graph is acyclic: the deepest level of each chain, in topological order (Kahn).
    const incoming = new Map<string, number>(ruleset.chains.map((c) => [c.name, 0]));
    for (const list of edges.values())
      for (const e of list) incoming.set(e.to, (incoming.get(e.to) ?? 0) + 1);
    const level = new Map<string, { depth: number; from?: string }>();
    for (const c of ruleset.chains) if (c.builtin) level.set(c.name, { depth: 0 });
    const ready = ruleset.chains.filter((c) => incoming.get(c.name) === 0).map((c) => c.name);
    while (ready.length > 0) {
      const name = ready.pop()!;
      const here = level.get(name);
      for (const e of edges.get(name) ?? []) {
        if (here !== undefined && here.depth + 1 > (level.get(e.to)?.depth ?? -1)) {
          level.set(e.to, { depth: here.depth + 1, from: name });
          if (here.depth + 1 >= MAX_JUMP_DEPTH) {
            const path = [e.to];
            for (let n: string | undefined = name; n !== undefined; n = level.get(n)?.from) path.unshift(n);
            throw new InputError(
              'NF_TOO_DEEP',
              `jumps nest too deep: ${path.join(' -> ')} is ${here.depth + 1} jumps from a built-in chain (at most ${MAX_JUMP_DEPTH - 1}, as the kernel: EMLINK)`,
              at(e.line),
            );
          }
        }
        const left = (incoming.get(e.to) ?? 0) - 1;
        incoming.set(e.to, left);
        if (left === 0) ready.push(e.to);
      }
    }
  }
}

/** nf_tables' NFT_JUMP_STACK_SIZE: a chain reached through this many jumps or gotos is refused. */
export const MAX_JUMP_DEPTH = 16;

/** iptables-restore's add_param_to_argv: split on blanks, `"…"` groups with `\` escaping inside quotes. */
export function tokenize(text: string, firstColumn: number, line: number, file?: string): Token[] {
  const out: Token[] = [];
  let buf = '';
  let start = -1;
  let quoted = false;
  let escaped = false;
  let hadQuote = false;
  const flush = () => {
    if (buf.length > 0 || hadQuote) out.push({ text: buf, column: firstColumn + start });
    buf = '';
    start = -1;
    hadQuote = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (quoted) {
      if (escaped) {
        buf += ch;
        escaped = false;
      } else if (ch === '\\') escaped = true;
      else if (ch === '"') {
        quoted = false;
        flush();
      } else buf += ch;
      continue;
    }
    if (ch === '"') {
      if (start < 0) start = i;
      quoted = true;
      hadQuote = true;
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      flush();
      continue;
    }
    if (start < 0) start = i;
    buf += ch;
  }
  if (quoted)
    throw new InputError(
      'NF_SYNTAX',
      'unterminated quote',
      file === undefined
        ? { line, column: firstColumn + start }
        : { file, line, column: firstColumn + start },
    );
  flush();
  return out;
}

// ---------------------------------------------------------------------------------------------------
// One rule

type MatchName =
  'tcp' | 'udp' | 'icmp' | 'multiport' | 'conntrack' | 'state' | 'iprange' | 'limit' | 'comment';

interface MatchBuilder {
  readonly name: MatchName;
  completed: boolean;
  readonly given: Set<string>;
  /** Option values, by canonical option name. */
  readonly values: Record<string, unknown>;
  readonly token: Token;
}

interface OptionSpec {
  /** Canonical name (the first spelling). */
  readonly canonical: string;
  readonly args: number;
  readonly invertible: boolean;
}

function spec(canonical: string, args: number, invertible: boolean): OptionSpec {
  return { canonical, args, invertible };
}

const MATCH_OPTIONS: Readonly<Record<MatchName, Readonly<Record<string, OptionSpec>>>> = {
  tcp: {
    '--sport': spec('--sport', 1, true),
    '--source-port': spec('--sport', 1, true),
    '--dport': spec('--dport', 1, true),
    '--destination-port': spec('--dport', 1, true),
    '--tcp-flags': spec('--tcp-flags', 2, true),
    '--syn': spec('--syn', 0, true),
    '--tcp-option': spec('--tcp-option', 1, true),
  },
  udp: {
    '--sport': spec('--sport', 1, true),
    '--source-port': spec('--sport', 1, true),
    '--dport': spec('--dport', 1, true),
    '--destination-port': spec('--dport', 1, true),
  },
  icmp: { '--icmp-type': spec('--icmp-type', 1, true) },
  multiport: {
    '--sports': spec('--sports', 1, true),
    '--source-ports': spec('--sports', 1, true),
    '--dports': spec('--dports', 1, true),
    '--destination-ports': spec('--dports', 1, true),
    '--ports': spec('--ports', 1, true),
  },
  conntrack: {
    '--ctstate': spec('--ctstate', 1, true),
    '--ctproto': spec('--ctproto', 1, true),
    '--ctorigsrc': spec('--ctorigsrc', 1, true),
    '--ctorigdst': spec('--ctorigdst', 1, true),
    '--ctreplsrc': spec('--ctreplsrc', 1, true),
    '--ctrepldst': spec('--ctrepldst', 1, true),
    '--ctorigsrcport': spec('--ctorigsrcport', 1, true),
    '--ctorigdstport': spec('--ctorigdstport', 1, true),
    '--ctreplsrcport': spec('--ctreplsrcport', 1, true),
    '--ctrepldstport': spec('--ctrepldstport', 1, true),
    '--ctstatus': spec('--ctstatus', 1, true),
    '--ctexpire': spec('--ctexpire', 1, true),
    '--ctdir': spec('--ctdir', 1, false),
  },
  state: { '--state': spec('--state', 1, true) },
  iprange: {
    '--src-range': spec('--src-range', 1, true),
    '--dst-range': spec('--dst-range', 1, true),
  },
  limit: {
    '--limit': spec('--limit', 1, false),
    '--limit-burst': spec('--limit-burst', 1, false),
  },
  comment: { '--comment': spec('--comment', 1, false) },
};

const UNSUPPORTED_OPTIONS = new Set([
  '--tcp-option',
  '--ctproto',
  '--ctorigsrc',
  '--ctorigdst',
  '--ctreplsrc',
  '--ctrepldst',
  '--ctorigsrcport',
  '--ctorigdstport',
  '--ctreplsrcport',
  '--ctrepldstport',
  '--ctstatus',
  '--ctexpire',
  '--ctdir',
]);

const TARGET_OPTIONS: Readonly<Record<'LOG' | 'REJECT', Readonly<Record<string, OptionSpec>>>> = {
  LOG: {
    '--log-level': spec('--log-level', 1, false),
    '--log-prefix': spec('--log-prefix', 1, false),
    '--log-tcp-sequence': spec('--log-tcp-sequence', 0, false),
    '--log-tcp-options': spec('--log-tcp-options', 0, false),
    '--log-ip-options': spec('--log-ip-options', 0, false),
    '--log-uid': spec('--log-uid', 0, false),
    '--log-macdecode': spec('--log-macdecode', 0, false),
  },
  REJECT: { '--reject-with': spec('--reject-with', 1, false) },
};

const PROTOCOL_MATCH: Readonly<Record<number, MatchName>> = { 6: 'tcp', 17: 'udp', 1: 'icmp' };
const MULTIPORT_PROTOCOLS = new Set([6, 17, 136, 132, 33]);

class RuleParser {
  private src?: { list: AddressMatch[]; token: Token };
  private dst?: { list: AddressMatch[]; token: Token };
  private inInterface?: Rule['inInterface'];
  private outInterface?: Rule['outInterface'];
  private protocol?: { number: number; invert: boolean; token: Token };
  private fragment?: { invert: boolean };
  private readonly matches: MatchBuilder[] = [];
  private target?: { name: string; token: Token; goto: boolean };
  private readonly targetValues: Record<string, unknown> = {};
  private readonly targetGiven = new Set<string>();
  private i = 0;

  constructor(
    private readonly p: RestoreParser,
    private readonly chain: string,
    private readonly tokens: Token[],
    private readonly counters: Counters,
    private readonly line: number,
  ) {}

  parse(): Rule[] {
    let invert: Token | undefined;
    while (this.i < this.tokens.length) {
      const tok = this.tokens[this.i++]!;
      if (tok.text === '!') {
        if (invert) throw this.p.syntax(`multiple consecutive ! not allowed`, tok.column);
        invert = tok;
        continue;
      }
      const eq = tok.text.startsWith('--') ? tok.text.indexOf('=') : -1;
      const name = eq > 0 ? tok.text.slice(0, eq) : tok.text;
      const inline = eq > 0 ? { text: tok.text.slice(eq + 1), column: tok.column + eq + 1 } : undefined;
      this.option(name, tok, inline, invert);
      invert = undefined;
    }
    if (invert) throw this.p.syntax(`'!' must be followed by an option`, invert.column);
    return this.build();
  }

  private arg(opt: Token, inline: Token | undefined): Token {
    if (inline) return inline;
    const t = this.tokens[this.i++];
    if (!t) throw this.p.syntax(`option '${opt.text}' requires an argument`, opt.column);
    return t;
  }

  private noInvert(opt: Token, invert: Token | undefined, what = opt.text): void {
    if (invert) throw this.p.syntax(`${what} cannot be inverted`, invert.column);
  }

  private option(name: string, tok: Token, inline: Token | undefined, invert: Token | undefined): void {
    switch (name) {
      case '-s':
      case '--source':
      case '--src':
      case '-d':
      case '--destination':
      case '--dst': {
        const isSrc = name === '-s' || name === '--source' || name === '--src';
        if (isSrc ? this.src : this.dst)
          throw this.p.syntax(`multiple ${isSrc ? '-s' : '-d'} flags not allowed`, tok.column);
        const a = this.arg(tok, inline);
        const list = this.addresses(a, invert !== undefined);
        if (isSrc) this.src = { list, token: a };
        else this.dst = { list, token: a };
        return;
      }
      case '-i':
      case '--in-interface':
      case '-o':
      case '--out-interface': {
        const isIn = name === '-i' || name === '--in-interface';
        if (isIn ? this.inInterface : this.outInterface)
          throw this.p.syntax(`multiple ${isIn ? '-i' : '-o'} flags not allowed`, tok.column);
        if (isIn && this.chain === 'OUTPUT') throw this.p.syntax(`can't use -i with OUTPUT`, tok.column);
        if (!isIn && this.chain === 'INPUT') throw this.p.syntax(`can't use -o with INPUT`, tok.column);
        const a = this.arg(tok, inline);
        if (a.text.length >= IFNAMSIZ)
          throw this.p.syntax(
            `interface name '${a.text}' must be shorter than IFNAMSIZ (${IFNAMSIZ - 1})`,
            a.column,
          );
        const m = { name: a.text, invert: invert !== undefined };
        if (isIn) this.inInterface = m;
        else this.outInterface = m;
        return;
      }
      case '-p':
      case '--protocol': {
        if (this.protocol) throw this.p.syntax(`multiple -p flags not allowed`, tok.column);
        const a = this.arg(tok, inline);
        const number = parseProtocol(a.text.toLowerCase());
        if (number === undefined) throw this.p.syntax(`unknown protocol '${a.text}' specified`, a.column);
        if (number === 0 && invert) throw this.p.syntax(`rule would never match protocol`, invert.column);
        this.protocol = { number, invert: invert !== undefined, token: a };
        return;
      }
      case '-f':
      case '--fragment':
        if (this.fragment) throw this.p.syntax(`multiple -f flags not allowed`, tok.column);
        this.fragment = { invert: invert !== undefined };
        return;
      case '-m':
      case '--match': {
        this.noInvert(tok, invert, '-m');
        const a = this.arg(tok, inline);
        this.loadMatch(a.text, a);
        return;
      }
      case '-j':
      case '--jump':
      case '-g':
      case '--goto': {
        if (invert) throw this.p.syntax(`cannot have ! before ${name}`, invert.column);
        if (this.target) throw this.p.syntax(`multiple -j flags not allowed`, tok.column);
        const a = this.arg(tok, inline);
        this.setTarget(a, name === '-g' || name === '--goto');
        return;
      }
      case '-c':
      case '--set-counters':
        throw this.p.unsupported(
          `'${name}' inside a rule: give counters as a [packets:bytes] prefix`,
          tok.column,
        );
      default:
        break;
    }
    if (!name.startsWith('-')) throw this.p.syntax(`bad argument '${tok.text}'`, tok.column);
    // Target options first, as iptables dispatches them.
    const targetName = this.target?.name;
    if (targetName === 'LOG' || targetName === 'REJECT') {
      const s = TARGET_OPTIONS[targetName][name];
      if (s) {
        this.noInvert(tok, invert);
        if (this.targetGiven.has(s.canonical))
          throw this.p.syntax(`${targetName}: option "${s.canonical}" can only be used once`, tok.column);
        this.targetGiven.add(s.canonical);
        this.targetValues[s.canonical] = s.args === 0 ? true : this.arg(tok, inline);
        return;
      }
    }
    for (const m of this.matches) {
      if (m.completed) continue;
      const s = MATCH_OPTIONS[m.name][name];
      if (s) return this.matchOption(m, s, tok, inline, invert);
    }
    const proto = this.protocol;
    const implicit = proto && !proto.invert ? PROTOCOL_MATCH[proto.number] : undefined;
    if (implicit) {
      const s = MATCH_OPTIONS[implicit][name];
      if (s) {
        const m = this.loadMatch(implicit, tok, true);
        return this.matchOption(m, s, tok, inline, invert);
      }
    }
    for (const [targetName2, opts] of Object.entries(TARGET_OPTIONS))
      if (opts[name] && this.target?.name !== targetName2)
        throw this.p.syntax(`unknown option '${name}' (it belongs to the ${targetName2} target)`, tok.column);
    throw this.p.syntax(`unknown option '${name}'`, tok.column);
  }

  private loadMatch(name: string, tok: Token, implicit = false): MatchBuilder {
    if (!(name in MATCH_OPTIONS)) {
      if (KNOWN_UNSUPPORTED_MATCHES.has(name))
        throw this.p.unsupported(`match '${name}' is not supported`, tok.column);
      throw this.p.syntax(`couldn't load match '${name}'`, tok.column);
    }
    const mname = name as MatchName;
    const proto = this.protocol;
    const needs = (n: number, label: string) => {
      if (!proto || proto.invert || proto.number !== n)
        throw this.p.syntax(`${label} match requires '-p ${label.toLowerCase()}'`, tok.column);
    };
    if (!implicit) {
      if (mname === 'tcp') needs(6, 'TCP');
      if (mname === 'udp') needs(17, 'UDP');
      if (mname === 'icmp') needs(1, 'ICMP');
    }
    if (mname === 'multiport' && (!proto || proto.invert || !MULTIPORT_PROTOCOLS.has(proto.number)))
      throw this.p.syntax(
        `multiport needs '-p tcp', '-p udp', '-p udplite', '-p sctp' or '-p dccp'`,
        tok.column,
      );
    // A new instance takes over the options of earlier instances of the same match (xtables_find_match).
    for (const m of this.matches) if (m.name === mname) m.completed = true;
    const m: MatchBuilder = { name: mname, completed: false, given: new Set(), values: {}, token: tok };
    this.matches.push(m);
    return m;
  }

  private matchOption(
    m: MatchBuilder,
    s: OptionSpec,
    tok: Token,
    inline: Token | undefined,
    invert: Token | undefined,
  ): void {
    if (UNSUPPORTED_OPTIONS.has(s.canonical))
      throw this.p.unsupported(`option '${s.canonical}' of match '${m.name}' is not supported`, tok.column);
    if (invert && !s.invertible)
      throw this.p.syntax(`${m.name}: option "${s.canonical}" cannot be inverted`, invert.column);
    const conflicts: Readonly<Record<string, readonly string[]>> = {
      '--syn': ['--tcp-flags'],
      '--tcp-flags': ['--syn'],
      '--sports': ['--dports', '--ports'],
      '--dports': ['--sports', '--ports'],
      '--ports': ['--sports', '--dports'],
    };
    for (const c of conflicts[s.canonical] ?? [])
      if (m.given.has(c))
        throw this.p.syntax(
          `${m.name}: option "${c}" cannot be used together with "${s.canonical}"`,
          tok.column,
        );
    if (m.given.has(s.canonical))
      throw this.p.syntax(`${m.name}: option "${s.canonical}" can only be used once`, tok.column);
    m.given.add(s.canonical);
    const args: Token[] = [];
    for (let k = 0; k < s.args; k++) args.push(k === 0 ? this.arg(tok, inline) : this.arg(tok, undefined));
    m.values[s.canonical] = { args, invert: invert !== undefined, token: tok };
  }

  private setTarget(a: Token, goto: boolean): void {
    const name = a.text;
    if (STANDARD_TARGETS.has(name)) {
      if (goto) throw this.p.syntax(`goto needs a user chain, not ${name}`, a.column);
      this.target = { name, token: a, goto };
      return;
    }
    if (this.p.hasChain(name)) {
      if (this.p.isBuiltin(name)) throw this.p.syntax(`cannot jump to built-in chain ${name}`, a.column);
      this.target = { name, token: a, goto };
      return;
    }
    if (KNOWN_UNSUPPORTED_TARGETS.has(name))
      throw this.p.unsupported(`target '${name}' is not supported`, a.column);
    throw this.p.syntax(`chain '${name}' does not exist`, a.column);
  }

  // -----------------------------------------------------------------------------------------------

  private build(): Rule[] {
    const matches = this.mergeProtocolMatches().map((m) => this.finishMatch(m));
    const target = this.finishTarget();
    const common = {
      ...(this.inInterface && !(this.inInterface.name === '+' && !this.inInterface.invert)
        ? { inInterface: this.inInterface }
        : {}),
      ...(this.outInterface && !(this.outInterface.name === '+' && !this.outInterface.invert)
        ? { outInterface: this.outInterface }
        : {}),
      ...(this.protocol && this.protocol.number !== 0
        ? { protocol: { number: this.protocol.number, invert: this.protocol.invert } }
        : {}),
      ...(this.fragment ? { fragment: this.fragment } : {}),
      matches,
      target,
      line: this.line,
    };
    // `-s a,b -d c,d` expands to one rule per pair, as iptables does.
    const srcs: (AddressMatch | undefined)[] = this.src ? this.src.list : [undefined];
    const dsts: (AddressMatch | undefined)[] = this.dst ? this.dst.list : [undefined];
    const out: Rule[] = [];
    for (const s of srcs)
      for (const d of dsts)
        out.push({
          ...(s && (s.mask !== 0 || s.invert) ? { src: s } : {}),
          ...(d && (d.mask !== 0 || d.invert) ? { dst: d } : {}),
          ...common,
          counters: { ...this.counters },
        });
    return out;
  }

  /**
   * iptables-nft keeps one tcp (udp) header match per rule: a later `-m tcp` is folded into the first.
   * Two instances that set the same option would be silently collapsed by iptables-nft-save; refuse them.
   */
  private mergeProtocolMatches(): MatchBuilder[] {
    const out: MatchBuilder[] = [];
    for (const m of this.matches) {
      const first = m.name === 'tcp' || m.name === 'udp' ? out.find((x) => x.name === m.name) : undefined;
      if (!first) {
        out.push(m);
        continue;
      }
      for (const opt of m.given) {
        if (
          first.given.has(opt) ||
          (opt === '--syn' && first.given.has('--tcp-flags')) ||
          (opt === '--tcp-flags' && first.given.has('--syn'))
        )
          throw this.p.unsupported(
            `a second '-m ${m.name}' repeats ${opt}; iptables-nft would keep only the last one, say it once`,
            m.token.column,
          );
        first.given.add(opt);
        first.values[opt] = m.values[opt];
      }
    }
    return out;
  }

  private value(
    m: MatchBuilder | undefined,
    opt: string,
  ): { args: Token[]; invert: boolean; token: Token } | undefined {
    return m?.values[opt] as { args: Token[]; invert: boolean; token: Token } | undefined;
  }

  private finishMatch(m: MatchBuilder): Match {
    const v = (opt: string) => this.value(m, opt);
    const protoName = this.protocol ? protocolName(this.protocol.number) : '';
    switch (m.name) {
      case 'tcp':
      case 'udp': {
        const base = m.name === 'udp' ? 10 : 0;
        const sport = this.portOption(v('--sport'), protoName, base);
        const dport = this.portOption(v('--dport'), protoName, base);
        if (m.name === 'udp')
          return { kind: 'udp', ...(sport ? { sport } : {}), ...(dport ? { dport } : {}) };
        const syn = v('--syn');
        const tf = v('--tcp-flags');
        let flags: { mask: number; comp: number; invert: boolean } | undefined;
        if (syn) flags = { mask: 0x17, comp: 0x02, invert: syn.invert };
        if (tf)
          flags = { mask: this.tcpFlags(tf.args[0]!), comp: this.tcpFlags(tf.args[1]!), invert: tf.invert };
        return {
          kind: 'tcp',
          ...(sport ? { sport } : {}),
          ...(dport ? { dport } : {}),
          ...(flags ? { flags } : {}),
        };
      }
      case 'icmp': {
        const t = v('--icmp-type');
        if (!t) return { kind: 'icmp', type: 0xff, codeMin: 0, codeMax: 0xff, invert: false };
        const arg = t.args[0]!;
        const r = parseIcmpType(arg.text);
        if (!r.ok) throw this.p.syntax(r.reason, arg.column);
        return { kind: 'icmp', type: r.type, codeMin: r.codeMin, codeMax: r.codeMax, invert: t.invert };
      }
      case 'multiport': {
        const which = v('--sports')
          ? '--sports'
          : v('--dports')
            ? '--dports'
            : v('--ports')
              ? '--ports'
              : undefined;
        if (!which) throw this.p.syntax(`multiport expects an option`, m.token.column);
        const o = v(which)!;
        return {
          kind: 'multiport',
          direction: which === '--sports' ? 'src' : which === '--dports' ? 'dst' : 'any',
          ports: this.multiportList(o.args[0]!, protoName),
          invert: o.invert,
        };
      }
      case 'conntrack':
      case 'state': {
        const opt = m.name === 'conntrack' ? '--ctstate' : '--state';
        const o = v(opt);
        if (!o)
          throw this.p.syntax(
            m.name === 'conntrack'
              ? `conntrack: at least one option is required`
              : `state: option "--state" must be specified`,
            m.token.column,
          );
        return { kind: m.name, states: this.states(o.args[0]!, m.name), invert: o.invert };
      }
      case 'iprange': {
        const s = v('--src-range');
        const d = v('--dst-range');
        if (!s && !d)
          throw this.p.syntax(
            `iprange match: you must specify '--src-range' or '--dst-range'`,
            m.token.column,
          );
        return {
          kind: 'iprange',
          ...(s ? { src: { ...this.range(s.args[0]!, '--src-range'), invert: s.invert } } : {}),
          ...(d ? { dst: { ...this.range(d.args[0]!, '--dst-range'), invert: d.invert } } : {}),
        };
      }
      case 'limit': {
        const l = v('--limit');
        const b = v('--limit-burst');
        const { rate, unitSeconds } = l ? this.rate(l.args[0]!) : { rate: 3, unitSeconds: 3600 };
        let burst = 5;
        if (b) {
          const n = strtoui(b.args[0]!.text, 10000);
          if (n === undefined)
            throw this.p.syntax(
              `limit: bad value for option "--limit-burst", or out of range (0-10000)`,
              b.args[0]!.column,
            );
          // iptables-nft 1.8.9 loads --limit-burst 0 as nft's default burst of 5 (nft --debug=netlink
          // shows 'burst 5'; iptables-save then prints no --limit-burst).
          burst = n === 0 ? 5 : n;
        }
        return { kind: 'limit', rate, unitSeconds, burst };
      }
      case 'comment': {
        const c = v('--comment');
        if (!c) throw this.p.syntax(`comment: option "--comment" must be specified`, m.token.column);
        return { kind: 'comment', text: this.cutBytes(c.args[0]!, COMMENT_MAX, '--comment') };
      }
    }
  }

  private finishTarget(): Target {
    const t = this.target;
    if (!t) return { kind: 'none' };
    const tv = (opt: string) => this.targetValues[opt] as Token | true | undefined;
    switch (t.name) {
      case 'ACCEPT':
      case 'DROP':
      case 'RETURN':
        return { kind: t.name };
      case 'REJECT': {
        const w = tv('--reject-with') as Token | undefined;
        let type: Extract<Target, { kind: 'REJECT' }>['with'] = 'icmp-port-unreachable';
        if (w) {
          if (/^echo-?reply$/i.test(w.text))
            throw this.p.syntax(`--reject-with echo-reply no longer supported`, w.column);
          const r = parseRejectWith(w.text);
          if (!r) throw this.p.syntax(`unknown reject type '${w.text}'`, w.column);
          type = r;
        }
        if (type === 'tcp-reset' && (!this.protocol || this.protocol.invert || this.protocol.number !== 6))
          throw this.p.syntax(`--reject-with tcp-reset requires '-p tcp'`, (w ?? t.token).column);
        return { kind: 'REJECT', with: type };
      }
      case 'LOG': {
        const level = tv('--log-level') as Token | undefined;
        const prefix = tv('--log-prefix') as Token | undefined;
        let lvl = 4;
        if (level) {
          const n = Object.hasOwn(LOG_LEVELS, level.text) ? LOG_LEVELS[level.text] : strtoui(level.text, 7);
          if (n === undefined) throw this.p.syntax(`log level '${level.text}' unknown`, level.column);
          lvl = n;
        }
        if (prefix && prefix.text.length === 0)
          throw this.p.syntax(`--log-prefix must have a minimum length of 1 characters`, prefix.column);
        const opts: LogOptions = {
          level: lvl,
          prefix: prefix ? this.cutBytes(prefix, LOG_PREFIX_MAX, '--log-prefix') : '',
          tcpSequence: tv('--log-tcp-sequence') === true,
          tcpOptions: tv('--log-tcp-options') === true,
          ipOptions: tv('--log-ip-options') === true,
          uid: tv('--log-uid') === true,
          macDecode: tv('--log-macdecode') === true,
        };
        return { kind: 'LOG', ...opts };
      }
      default:
        return t.goto ? { kind: 'goto', chain: t.name } : { kind: 'jump', chain: t.name };
    }
  }

  /**
   * iptables-nft 1.8.9 silently cuts a longer --log-prefix or --comment to the bytes (not characters)
   * its fixed field keeps (xt_log_info prefix[30], xt_comment_info comment[256], less the NUL), even
   * inside a UTF-8 sequence; that last cut is refused here.
   */
  private cutBytes(tok: Token, max: number, option: string): string {
    const bytes = encodeUtf8(tok.text);
    if (bytes.length <= max) return tok.text;
    if ((bytes[max]! & 0xc0) === 0x80)
      throw this.p.unsupported(
        `${option} longer than ${max} bytes: the kernel's cut would split a UTF-8 character`,
        tok.column,
      );
    return decodeUtf8(bytes.subarray(0, max));
  }

  // Argument parsers ------------------------------------------------------------------------------

  /** `-s`/`-d`: comma-separated `ADDR[/LEN|/MASK]`; host bits are cleared. */
  private addresses(a: Token, invert: boolean): AddressMatch[] {
    return a.text.split(',').map((part) => {
      const slash = part.indexOf('/');
      const addrText = slash >= 0 ? part.slice(0, slash) : part;
      const maskText = slash >= 0 ? part.slice(slash + 1) : undefined;
      const address = parseDottedLoose(addrText);
      if (address === undefined) {
        if (/^[A-Za-z]/.test(addrText))
          throw this.p.unsupported(`host names are not resolved ('${addrText}'); give an address`, a.column);
        throw this.p.syntax(`host/network '${addrText}' not found`, a.column);
      }
      let mask = 0xffffffff;
      if (maskText !== undefined) {
        const dotted = maskText.includes('.') ? tryParseIpv4(maskText) : undefined;
        const len = maskText.includes('.') ? undefined : strtoui(maskText, 32);
        if (dotted !== undefined) mask = dotted;
        else if (len !== undefined) mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
        else throw this.p.syntax(`invalid mask '${maskText}' specified`, a.column);
      }
      if (mask === 0 && invert) throw this.p.syntax(`'! ${part}' would never match`, a.column);
      return { address: (address & mask) >>> 0, mask, invert };
    });
  }

  private portOption(
    o: { args: Token[]; invert: boolean } | undefined,
    protoName: string,
    base: 0 | 10,
  ): PortMatch | undefined {
    if (!o) return undefined;
    const a = o.args[0]!;
    const colon = a.text.indexOf(':');
    const port = (s: string, dflt: number) => {
      if (s === '') return dflt;
      const n = parsePort(s, protoName, base);
      if (n === undefined) throw this.p.syntax(`invalid port/service '${s}' specified`, a.column);
      return n;
    };
    const min = colon < 0 ? port(a.text, -1) : port(a.text.slice(0, colon), 0);
    const max = colon < 0 ? min : port(a.text.slice(colon + 1), 65535);
    if (min > max) throw this.p.syntax(`invalid portrange (min > max)`, a.column);
    return { min, max, invert: o.invert };
  }

  private multiportList(a: Token, protoName: string): PortRange[] {
    const out: PortRange[] = [];
    let count = 0;
    for (const item of a.text.split(',')) {
      const [lo, hi, ...rest] = item.split(':');
      const port = (s: string | undefined) => {
        const n = s === undefined ? undefined : parsePort(s, protoName, 0);
        if (n === undefined) throw this.p.syntax(`invalid port/service '${s ?? ''}' specified`, a.column);
        return n;
      };
      if (rest.length > 0) throw this.p.syntax(`invalid port/service '${item}' specified`, a.column);
      const min = port(lo);
      const max = hi === undefined ? min : port(hi);
      if (hi !== undefined && min >= max) throw this.p.syntax(`invalid portrange specified`, a.column);
      count += hi === undefined ? 1 : 2;
      if (count > MULTIPORT_MAX) throw this.p.syntax(`too many ports specified`, a.column);
      out.push({ min, max });
    }
    return out;
  }

  private tcpFlags(a: Token): number {
    let bits = 0;
    for (const name of a.text.split(',')) {
      const f = TCP_FLAG_NAMES.find(([n]) => n === name.toUpperCase());
      if (!f) throw this.p.syntax(`unknown TCP flag '${name}'`, a.column);
      bits |= f[1];
    }
    return bits;
  }

  private states(a: Token, kind: 'conntrack' | 'state'): number {
    let bits = 0;
    for (const name of a.text.split(',')) {
      const up = name.toUpperCase() as CtStateName;
      const allowed = kind === 'state' ? up !== 'SNAT' && up !== 'DNAT' : true;
      if (!(up in CtState) || !allowed || name === '')
        throw this.p.syntax(`bad ${kind === 'state' ? 'state' : 'ctstate'} '${name}'`, a.column);
      bits |= CtState[up];
    }
    return bits;
  }

  private range(a: Token, opt: string): { min: number; max: number } {
    const parts = a.text.split('-');
    const min = parts.length <= 2 ? tryParseIpv4(parts[0] ?? '') : undefined;
    const max = parts.length === 2 ? tryParseIpv4(parts[1] ?? '') : min;
    if (min === undefined || max === undefined)
      throw this.p.syntax(`iprange: bad value for "${opt}" option: '${a.text}'`, a.column);
    return { min, max };
  }

  /** libxt_limit parse_rate: `N[/second|minute|hour|day]` (any prefix of the unit), at most 10000/s. */
  private rate(a: Token): { rate: number; unitSeconds: number } {
    const slash = a.text.indexOf('/');
    const unit = slash < 0 ? undefined : a.text.slice(slash + 1);
    const n = atoiU32(a.text);
    let mult = 1;
    if (unit !== undefined) {
      const u = unit.toLowerCase();
      const hit =
        u.length > 0
          ? [
              ['second', 1],
              ['minute', 60],
              ['hour', 3600],
              ['day', 86400],
            ].find(([w]) => (w as string).startsWith(u))
          : undefined;
      if (!hit) throw this.p.syntax(`bad rate '${a.text}'`, a.column);
      mult = hit[1] as number;
    }
    if (n === 0) throw this.p.syntax(`bad rate '${a.text}'`, a.column);
    // The kernel stores the period in 1/10000 s; iptables-nft turns it back into the largest exact unit.
    const period = Math.floor((LIMIT_SCALE * mult) / n);
    if (period === 0) throw this.p.syntax(`rate too fast '${a.text}'`, a.column);
    return normaliseRate(period);
  }
}

/** iptables' print_rate / add_nft_limit: the coarsest unit in which the period is still exact enough. */
export function normaliseRate(period: number): { rate: number; unitSeconds: number } {
  const units = [86400, 3600, 60, 1];
  let i = 1;
  for (; i < units.length; i++) {
    const mult = LIMIT_SCALE * units[i]!;
    if (period > mult || Math.floor(mult / period) < mult % period) break;
  }
  const unit = units[i - 1]!;
  return { rate: Math.floor((LIMIT_SCALE * unit) / period), unitSeconds: unit };
}

/** xtables_numeric_to_ipaddr: 1 to 4 dotted decimal parts (missing ones are zero), each 0–255. */
function parseDottedLoose(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p === undefined) {
      v = v * 256;
      continue;
    }
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    v = v * 256 + Number(p);
  }
  return v >>> 0;
}

/**
 * libxt_limit's parse_rate reads the count with atoi into a uint32_t: C strtol (leading white space,
 * a sign, then decimal digits up to the first other character, saturating at the long's range), cut to
 * int, then to 32 unsigned bits. So `1x/s` is 1/s, `4294967297/s` is 1/s, `-5/s` is too fast.
 */
function atoiU32(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(text)!;
  let v = m[2] === '' ? 0n : BigInt(m[2]!);
  if (m[1] === '-') v = -v;
  const LONG_MAX = (1n << 63n) - 1n;
  if (v > LONG_MAX) v = LONG_MAX;
  if (v < -LONG_MAX - 1n) v = -LONG_MAX - 1n;
  return Number(BigInt.asUintN(32, v));
}

function zero(): Counters {
  return { packets: 0, bytes: 0 };
}

function firstWord(s: string): string {
  return s.split(/\s/)[0] ?? s;
}

export type { BuiltinChain };
