/**
 * What `celery-wire stubs` reads from Python: the JSON the introspection script
 * (`introspect-script.ts`) prints for a Celery app. Keys are the script's own (snake_case, like
 * every document that comes from the Python side).
 */
export type PyTypeNode =
  | {
      readonly kind:
        | 'any'
        | 'int'
        | 'float'
        | 'str'
        | 'bool'
        | 'bytes'
        | 'none'
        | 'datetime'
        | 'date'
        | 'time'
        | 'decimal'
        | 'uuid';
    }
  | { readonly kind: 'unknown'; readonly repr: string }
  | { readonly kind: 'list'; readonly items: PyTypeNode }
  | { readonly kind: 'tuple'; readonly items: readonly PyTypeNode[] }
  | { readonly kind: 'dict'; readonly key: PyTypeNode; readonly value: PyTypeNode }
  | { readonly kind: 'union'; readonly options: readonly PyTypeNode[] }
  | { readonly kind: 'literal'; readonly values: readonly (string | number | boolean)[] }
  | { readonly kind: 'ref'; readonly name: string };

export interface PyRecordField {
  readonly name: string;
  readonly type: PyTypeNode;
  readonly required: boolean;
}

/** A TypedDict, dataclass or pydantic model: on the wire, a dict of its fields. */
export interface PyRecordType {
  readonly kind: 'typeddict' | 'dataclass' | 'pydantic';
  readonly name: string;
  readonly doc: string | null;
  readonly fields: readonly PyRecordField[];
}

export type PyParamKind =
  'positional_only' | 'positional_or_keyword' | 'var_positional' | 'keyword_only' | 'var_keyword';

export interface PyParam {
  readonly name: string;
  readonly kind: PyParamKind;
  readonly has_default: boolean;
  readonly type: PyTypeNode;
}

export interface PyTaskInfo {
  readonly name: string;
  readonly module: string | null;
  readonly qualname: string | null;
  readonly doc: string | null;
  readonly params: readonly PyParam[];
  readonly returns: PyTypeNode;
}

export interface PyAppInfo {
  readonly celery_version: string;
  readonly python_version: string;
  readonly app: string;
  readonly tasks: readonly PyTaskInfo[];
  readonly types: Readonly<Record<string, PyRecordType>>;
}
