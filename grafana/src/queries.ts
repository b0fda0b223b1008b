/**
 * Query builders for the two data sources the foundation SDK has no types for: Grafana's
 * built-in Jaeger data source (pointed at query-api's `/jaeger`) and the JSON API plugin
 * (marcusolsson-json-datasource, pointed at the query API base URL). Their fields are the
 * plugins' query models.
 */
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { FLOWSCOPE_API, JAEGER } from './datasources.ts';

export interface JaegerQuery extends Dataquery {
  refId: string;
  datasource: DataSourceRef;
  /** 'search' for a trace search (a table of traces); absent to show one trace by id. */
  queryType?: 'search';
  service?: string;
  operation?: string;
  /** logfmt: `workflow.type=checkout error=true`. */
  tags?: string;
  minDuration?: string;
  maxDuration?: string;
  limit?: number;
  /** Trace id, when queryType is absent. */
  query?: string;
}

export class JaegerQueryBuilder implements Builder<Dataquery> {
  private readonly internal: JaegerQuery;

  constructor(refId = 'A') {
    this.internal = { refId, datasource: JAEGER, _implementsDataqueryVariant() {} };
  }

  search(fields: { service: string; operation?: string; tags?: string; minDuration?: string; maxDuration?: string; limit?: number }): this {
    Object.assign(this.internal, { queryType: 'search' as const }, fields);
    return this;
  }

  traceId(traceId: string): this {
    this.internal.query = traceId;
    return this;
  }

  build(): JaegerQuery {
    return this.internal;
  }
}

export interface JsonApiField {
  jsonPath: string;
  name?: string;
  type?: 'string' | 'number' | 'time' | 'boolean';
}

export interface JsonApiQuery extends Dataquery {
  refId: string;
  datasource: DataSourceRef;
  method: 'GET';
  /** Appended to the data source URL (the query API base URL): `/api/v1/debugging/…` or `/jaeger/api/…`. */
  urlPath: string;
  params: [string, string][];
  fields: JsonApiField[];
  cacheDurationSeconds: number;
}

export class JsonApiQueryBuilder implements Builder<Dataquery> {
  private readonly internal: JsonApiQuery;

  constructor(urlPath: string, refId = 'A') {
    this.internal = {
      refId,
      datasource: FLOWSCOPE_API,
      method: 'GET',
      urlPath,
      params: [],
      fields: [],
      cacheDurationSeconds: 0,
      _implementsDataqueryVariant() {},
    };
  }

  param(key: string, value: string): this {
    this.internal.params.push([key, value]);
    return this;
  }

  field(jsonPath: string, name: string, type?: JsonApiField['type']): this {
    this.internal.fields.push(type === undefined ? { jsonPath, name } : { jsonPath, name, type });
    return this;
  }

  build(): JsonApiQuery {
    return this.internal;
  }
}
