/**
 * The data sources the dashboards use, by the fixed uids that
 * `provisioning/datasources/flowscope.yaml` gives them. A test checks both agree.
 */
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'flowscope-prometheus' };
export const JAEGER: DataSourceRef = { type: 'jaeger', uid: 'flowscope-jaeger' };
export const FLOWSCOPE_API: DataSourceRef = { type: 'marcusolsson-json-datasource', uid: 'flowscope-api' };

export const DATASOURCES = [PROMETHEUS, JAEGER, FLOWSCOPE_API] as const;
