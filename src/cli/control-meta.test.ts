import { compileArguments } from './control-meta';
import { pretty } from './control';

describe('celery CLI argument compilation (celery/bin/control.py, _compile_arguments)', () => {
  it('types positional args and collects the variadic rest', () => {
    expect(compileArguments('pool_grow', ['2'])).toEqual({ n: 2 });
    expect(compileArguments('terminate', ['SIGKILL', 'a', 'b'])).toEqual({
      signal: 'SIGKILL',
      task_id: ['a', 'b'],
    });
    expect(compileArguments('registered', ['serializer', 'max_retries'])).toEqual({
      taskinfoitems: ['serializer', 'max_retries'],
    });
    expect(compileArguments('conf', ['1'])).toEqual({ with_defaults: true });
    expect(compileArguments('time_limit', ['t', '1', '2.5'])).toEqual({
      task_name: 't',
      soft: 1,
      hard: 2.5,
    });
    expect(() => compileArguments('pool_grow', ['x'])).toThrow('invalid literal for int()');
    expect(() => compileArguments('ping', ['x'])).toThrow('takes arguments');
  });
  it('pretty prints replies as CLIContext.pretty', () => {
    expect(pretty({ ok: 'pong' })).toEqual(['OK', '    pong']);
    expect(pretty({ error: 'x' })).toEqual(['ERROR', '    x']);
    expect(pretty([])).toEqual(['OK', '- empty -']);
    expect(pretty(['a', 'b'])).toEqual(['OK', '* a\n* b']);
    expect(pretty(null)).toEqual(['OK', 'None']);
  });
});
