/**
 * Just enough of the POSIX shell's grammar to see which commands a command line runs: quotes,
 * escapes, operators, redirections and command substitutions. It is for judging commands
 * (command-risk.ts), not for running them; anything it cannot follow stays a literal word.
 */

/** One simple command: its words (quotes removed) and where it redirects output. */
export interface SimpleCommand {
  words: string[];
  /** Targets of `>`, `>>`, `&>`, `>|` (not `>&2`-style descriptor copies). */
  writes: string[];
  /** Where standard input comes from: a file after `<`, `<<` for a here-document, `<<<` for a here-string. */
  inputs: string[];
}

/** Commands joined by `|`: a download piped into a shell is judged as a whole. */
export type Pipeline = SimpleCommand[];

export interface ParsedLine {
  pipelines: Pipeline[];
  /** The text inside `$(…)`, backticks and `<(…)`, parsed on their own by the caller. */
  substitutions: string[];
}

type Token = { kind: 'word'; value: string } | { kind: 'op'; value: string };

const separators = new Set([';', '&&', '||', '&', '(', ')', '\n', '{', '}']);

/** Splits a command line into pipelines of simple commands. */
export function parseCommandLine(text: string): ParsedLine {
  const substitutions: string[] = [];
  const tokens = tokenize(text, substitutions);
  const pipelines: Pipeline[] = [];
  let pipeline: Pipeline = [];
  let command: SimpleCommand = { words: [], writes: [], inputs: [] };
  const endCommand = (): void => {
    if (command.words.length > 0 || command.writes.length > 0 || command.inputs.length > 0) pipeline.push(command);
    command = { words: [], writes: [], inputs: [] };
  };
  const endPipeline = (): void => {
    endCommand();
    if (pipeline.length > 0) pipelines.push(pipeline);
    pipeline = [];
  };
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    if (!token) continue;
    if (token.kind === 'word') {
      // `{` and `}` group commands only as words of their own.
      if ((token.value === '{' || token.value === '}') && command.words.length === 0) continue;
      command.words.push(token.value);
      continue;
    }
    if (token.value === '|' || token.value === '|&') endCommand();
    else if (separators.has(token.value)) endPipeline();
    else if (token.value.startsWith('>')) {
      const target = tokens[index + 1];
      if (target?.kind === 'word') {
        index++;
        // `>&2` copies a descriptor; `>&file` (bash) writes a file.
        if (!(token.value === '>&' && /^\d+-?$|^-$/.test(target.value))) command.writes.push(target.value);
      }
    } else if (token.value.startsWith('<')) {
      const source = tokens[index + 1];
      if (source?.kind === 'word') index++;
      command.inputs.push(token.value === '<' ? (source?.kind === 'word' ? source.value : '') : token.value);
    }
  }
  endPipeline();
  return { pipelines, substitutions };
}

function tokenize(text: string, substitutions: string[]): Token[] {
  const tokens: Token[] = [];
  let word = '';
  let inWord = false;
  const endWord = (): void => {
    if (inWord) tokens.push({ kind: 'word', value: word });
    word = '';
    inWord = false;
  };
  const pendingHeredocs: string[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index] ?? '';
    if (char === ' ' || char === '\t') {
      endWord();
      index++;
    } else if (char === '\n' || char === '\r') {
      endWord();
      tokens.push({ kind: 'op', value: '\n' });
      index++;
      for (const terminator of pendingHeredocs.splice(0)) {
        const end = new RegExp(`^[\\t ]*${terminator}[\\t ]*$`, 'm').exec(text.slice(index));
        index = end ? index + end.index + end[0].length : text.length;
      }
    } else if (char === '#' && !inWord) {
      while (index < text.length && text[index] !== '\n') index++;
    } else if (char === '\\') {
      // A backslash-newline joins lines; any other escaped character is literal.
      if (text[index + 1] !== '\n') {
        word += text[index + 1] ?? '';
        inWord = true;
      }
      index += 2;
    } else if (char === "'") {
      const end = text.indexOf("'", index + 1);
      word += end === -1 ? text.slice(index + 1) : text.slice(index + 1, end);
      inWord = true;
      index = end === -1 ? text.length : end + 1;
    } else if (char === '"') {
      index++;
      inWord = true;
      while (index < text.length && text[index] !== '"') {
        if (text[index] === '\\' && '$`"\\\n'.includes(text[index + 1] ?? '')) {
          word += text[index + 1] ?? '';
          index += 2;
        } else if (text.startsWith('$((', index)) {
          // Arithmetic, not a command (but a substitution inside it runs).
          const end = substitutionEnd(text, index);
          innerSubstitutions(text.slice(index + 3, end), substitutions);
          word += text.slice(index, end);
          index = end;
        } else if (text.startsWith('$(', index) || text[index] === '`') {
          const end = substitutionEnd(text, index);
          substitutions.push(substitutionBody(text, index, end));
          word += text.slice(index, end);
          index = end;
        } else {
          word += text[index] ?? '';
          index++;
        }
      }
      index++;
    } else if (text.startsWith('$((', index)) {
      // Arithmetic expansion: part of the word, not a command line (but a substitution inside it runs).
      const end = substitutionEnd(text, index);
      innerSubstitutions(text.slice(index + 3, end), substitutions);
      word += text.slice(index, end);
      inWord = true;
      index = end;
    } else if (text.startsWith('$(', index) || char === '`') {
      const end = substitutionEnd(text, index);
      substitutions.push(substitutionBody(text, index, end));
      word += text.slice(index, end);
      inWord = true;
      index = end;
    } else if ((char === '<' || char === '>') && text[index + 1] === '(') {
      // Process substitution: its body is a command line of its own.
      endWord();
      const end = substitutionEnd(text, index);
      substitutions.push(text.slice(index + 2, end - 1));
      tokens.push({ kind: 'word', value: text.slice(index, end) });
      index = end;
    } else if (char === '>' || (char === '&' && text[index + 1] === '>')) {
      // A descriptor number right before `>` belongs to the redirection, not to a word.
      if (/^\d+$/.test(word) && inWord) {
        word = '';
        inWord = false;
      }
      endWord();
      const match = /^(&>>|&>|>>|>\||>&|>)/.exec(text.slice(index));
      const op = match?.[0] ?? '>';
      tokens.push({ kind: 'op', value: op.startsWith('&') ? '>' : op });
      index += op.length;
    } else if (char === '<') {
      endWord();
      const heredoc = /^<<-?\s*['"]?(\w+)['"]?/.exec(text.slice(index));
      const herestring = !heredoc && text.startsWith('<<<', index);
      if (heredoc) {
        // A here-document's lines are data for the command, not commands: skipped at the line's end.
        pendingHeredocs.push(heredoc[1] ?? '');
        index += heredoc[0].length;
      } else {
        index += herestring ? 3 : 1;
      }
      tokens.push({ kind: 'op', value: heredoc ? '<<' : herestring ? '<<<' : '<' });
      if (heredoc) tokens.push({ kind: 'word', value: heredoc[1] ?? '' });
    } else if ('|&;(){}'.includes(char)) {
      // `{` groups only as a word of its own: `{rm,x}` is a brace expansion, part of a word.
      if (((char === '{' || char === '}') && inWord) || (char === '{' && !/[\s;]/.test(text[index + 1] ?? ' '))) {
        inWord = true;
        word += char;
        index++;
        continue;
      }
      endWord();
      const two = text.slice(index, index + 2);
      const op = ['&&', '||', '|&', ';;'].includes(two) ? two : char;
      tokens.push({ kind: 'op', value: op === ';;' ? ';' : op });
      index += op.length;
    } else {
      word += char;
      inWord = true;
      index++;
    }
  }
  endWord();
  return tokens;
}

/** The command substitutions inside an arithmetic expression. */
function innerSubstitutions(expression: string, substitutions: string[]): void {
  for (let index = 0; index < expression.length; index++) {
    if (expression[index] !== '`' && !(expression.startsWith('$(', index) && !expression.startsWith('$((', index))) continue;
    const end = substitutionEnd(expression, index);
    substitutions.push(substitutionBody(expression, index, end));
    index = end - 1;
  }
}

/** The index just past the `)` or backtick that closes the substitution starting at `start`. */
function substitutionEnd(text: string, start: number): number {
  if (text[start] === '`') {
    const end = text.indexOf('`', start + 1);
    return end === -1 ? text.length : end + 1;
  }
  let depth = 0;
  let quote: string | undefined;
  for (let index = start + 1; index < text.length; index++) {
    const char = text[index];
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"') index++;
      continue;
    }
    if (char === '\\') index++;
    else if (char === "'" || char === '"') quote = char;
    else if (char === '(') depth++;
    else if (char === ')') {
      depth--;
      if (depth === 0) return index + 1;
    }
  }
  return text.length;
}

function substitutionBody(text: string, start: number, end: number): string {
  if (text[start] === '`') return text.slice(start + 1, text[end - 1] === '`' ? end - 1 : end);
  return text.slice(start + 2, text[end - 1] === ')' ? end - 1 : end);
}
