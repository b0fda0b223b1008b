/**
 * The query API's request and response shapes, generated from its OpenAPI document (the JSON
 * schemas its routes validate and serialise with) by openapi-typescript. Do not edit: after a
 * change to a route's schema, regenerate with
 *   UPDATE_API_TYPES=1 npx pnpm@10.34.8 exec vitest run query-api/test/ui-api-types.int.test.ts
 * (the same test fails while this file is stale). Types only: nothing of it reaches the bundle.
 */
export interface paths {
    "/api/v1/debugging/alert-rules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Alert rules */
        get: {
            parameters: {
                query?: {
                    enabled?: boolean;
                    limit?: number;
                    offset?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                component: string | null;
                                created_at: string;
                                critical_threshold: number | null;
                                description: string;
                                enabled: boolean;
                                eval_interval_seconds: number;
                                id: number;
                                layer: string | null;
                                metric: string;
                                name: string;
                                recipients: string[];
                                source: string;
                                updated_at: string;
                                warning_threshold: number | null;
                                window_seconds: number;
                                workflow_type: string | null;
                            }[];
                            limit: number;
                            offset: number;
                            total: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        /** Create an alert rule (admin) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        component?: string | null;
                        critical_threshold?: number | null;
                        description?: string;
                        enabled?: boolean;
                        eval_interval_seconds?: number;
                        layer?: string | null;
                        metric: string;
                        name: string;
                        recipients?: string[];
                        warning_threshold?: number | null;
                        window_seconds?: number;
                        workflow_type?: string | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            component: string | null;
                            created_at: string;
                            critical_threshold: number | null;
                            description: string;
                            enabled: boolean;
                            eval_interval_seconds: number;
                            id: number;
                            layer: string | null;
                            metric: string;
                            name: string;
                            recipients: string[];
                            source: string;
                            updated_at: string;
                            warning_threshold: number | null;
                            window_seconds: number;
                            workflow_type: string | null;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/alert-rules/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One alert rule */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            component: string | null;
                            created_at: string;
                            critical_threshold: number | null;
                            description: string;
                            enabled: boolean;
                            eval_interval_seconds: number;
                            id: number;
                            layer: string | null;
                            metric: string;
                            name: string;
                            recipients: string[];
                            source: string;
                            updated_at: string;
                            warning_threshold: number | null;
                            window_seconds: number;
                            workflow_type: string | null;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Update an alert rule (admin); `enabled: false` disables it */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        component: string | null;
                        critical_threshold: number | null;
                        description: string;
                        enabled: boolean;
                        eval_interval_seconds: number;
                        layer: string | null;
                        metric: string;
                        name: string;
                        recipients: string[];
                        warning_threshold: number | null;
                        window_seconds: number;
                        workflow_type: string | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            component: string | null;
                            created_at: string;
                            critical_threshold: number | null;
                            description: string;
                            enabled: boolean;
                            eval_interval_seconds: number;
                            id: number;
                            layer: string | null;
                            metric: string;
                            name: string;
                            recipients: string[];
                            source: string;
                            updated_at: string;
                            warning_threshold: number | null;
                            window_seconds: number;
                            workflow_type: string | null;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/debugging/alert-rules/{id}/disable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Disable an alert rule (admin) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            component: string | null;
                            created_at: string;
                            critical_threshold: number | null;
                            description: string;
                            enabled: boolean;
                            eval_interval_seconds: number;
                            id: number;
                            layer: string | null;
                            metric: string;
                            name: string;
                            recipients: string[];
                            source: string;
                            updated_at: string;
                            warning_threshold: number | null;
                            window_seconds: number;
                            workflow_type: string | null;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/alert-rules/{id}/enable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Enable an alert rule (admin) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            component: string | null;
                            created_at: string;
                            critical_threshold: number | null;
                            description: string;
                            enabled: boolean;
                            eval_interval_seconds: number;
                            id: number;
                            layer: string | null;
                            metric: string;
                            name: string;
                            recipients: string[];
                            source: string;
                            updated_at: string;
                            warning_threshold: number | null;
                            window_seconds: number;
                            workflow_type: string | null;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/alerts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Alert state changes, newest first */
        get: {
            parameters: {
                query?: {
                    from?: string;
                    limit?: number;
                    offset?: number;
                    rule_id?: number;
                    severity?: "warning" | "critical";
                    state?: "firing" | "resolved";
                    to?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                component: string | null;
                                first_seen: string;
                                id: number;
                                last_notified_at: string | null;
                                last_seen: string;
                                layer: string | null;
                                metric: string;
                                notification_status: string;
                                resolved_at: string | null;
                                rule_id: number;
                                rule_name: string;
                                scope_key: string;
                                severity: string;
                                state: string;
                                threshold: number;
                                value: number;
                                window_seconds: number;
                                workflow_type: string | null;
                            }[];
                            limit: number;
                            offset: number;
                            total: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/alerts/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One alert with its rule, scope and causes (slow operations or error origins, each with an example workflow) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            causes: {
                                baseline_p50_ms: number | null;
                                baseline_p95_ms: number | null;
                                component: string;
                                count: number | null;
                                error_type: string | null;
                                exemplar_workflow_id: string | null;
                                /** @enum {string} */
                                kind: "slow" | "error";
                                layer: string;
                                message: string | null;
                                operation: string;
                                ratio: number | null;
                                window_count: number | null;
                                window_p95_ms: number | null;
                                workflow_type: string;
                            }[];
                            component: string | null;
                            first_seen: string;
                            id: number;
                            last_notified_at: string | null;
                            last_seen: string;
                            layer: string | null;
                            metric: string;
                            notification_status: string;
                            resolved_at: string | null;
                            rule_id: number;
                            rule_name: string;
                            scope_key: string;
                            severity: string;
                            state: string;
                            threshold: number;
                            value: number;
                            workflow_type: string | null;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/email-outbox": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Alert emails: sent, pending, failed, or kept unsent when no SMTP server is configured */
        get: {
            parameters: {
                query?: {
                    alert_id?: number;
                    limit?: number;
                    offset?: number;
                    status?: "pending" | "sending" | "sent" | "failed" | "unsent";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                alert_id: number | null;
                                attempts: number;
                                body_text: string;
                                created_at: string;
                                id: number;
                                last_error: string | null;
                                recipients: string[];
                                sent_at: string | null;
                                status: string;
                                subject: string;
                            }[];
                            limit: number;
                            offset: number;
                            total: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/errors": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Errors (error spans and exception events), newest first */
        get: {
            parameters: {
                query?: {
                    component?: string;
                    correlation_id?: string;
                    error_type?: string;
                    from?: string;
                    layer?: string;
                    limit?: number;
                    offset?: number;
                    resolved?: boolean;
                    severity?: string;
                    to?: string;
                    workflow_type?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                component: string;
                                correlation_id: string;
                                error_type: string;
                                id: number;
                                layer: string;
                                message: string;
                                occurred_at: string;
                                resolved: boolean;
                                resolved_at: string | null;
                                resolved_by: string | null;
                                severity: string;
                                span_id: string;
                                span_name: string;
                                stack: string | null;
                                trace_id: string;
                                workflow_type: string;
                            }[];
                            limit: number;
                            offset: number;
                            total: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/errors/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One error */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            component: string;
                            correlation_id: string;
                            error_type: string;
                            id: number;
                            layer: string;
                            message: string;
                            occurred_at: string;
                            resolved: boolean;
                            resolved_at: string | null;
                            resolved_by: string | null;
                            severity: string;
                            span_id: string;
                            span_name: string;
                            stack: string | null;
                            trace_id: string;
                            workflow_type: string;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/errors/{id}/resolve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mark an error resolved (admin); records who and when */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            component: string;
                            correlation_id: string;
                            error_type: string;
                            id: number;
                            layer: string;
                            message: string;
                            occurred_at: string;
                            resolved: boolean;
                            resolved_at: string | null;
                            resolved_by: string | null;
                            severity: string;
                            span_id: string;
                            span_name: string;
                            stack: string | null;
                            trace_id: string;
                            workflow_type: string;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/errors/{id}/unresolve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mark an error unresolved again (admin) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            component: string;
                            correlation_id: string;
                            error_type: string;
                            id: number;
                            layer: string;
                            message: string;
                            occurred_at: string;
                            resolved: boolean;
                            resolved_at: string | null;
                            resolved_by: string | null;
                            severity: string;
                            span_id: string;
                            span_name: string;
                            stack: string | null;
                            trace_id: string;
                            workflow_type: string;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Publish a live event to every connected client of every replica (admin; for tests of dashboards and pipelines) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        at: string;
                        type: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            published: boolean;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** System health: active workflows, unresolved errors, ingest rate, alert states (cached briefly) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            alerts: {
                                firing: number;
                                firing_critical: number;
                                firing_warning: number;
                                rules_enabled: number;
                            };
                            cache_ttl_ms: number;
                            errors: {
                                unresolved: number;
                            };
                            generated_at: string;
                            ingest: {
                                errors_last_5m: number;
                                spans_last_5m: number;
                                spans_per_second: number;
                            };
                            status: string;
                            workflows: {
                                active: number;
                                active_by_type: {
                                    [key: string]: number;
                                };
                                failed_last_hour: number;
                                timed_out_last_hour: number;
                            };
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Who the token is: its name and role (the UI shows admin controls by it) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            role: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/performance": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Latency percentiles, request rate and error rate over time */
        get: {
            parameters: {
                query?: {
                    component?: string;
                    /** @description default: one hour before `to` */
                    from?: string;
                    group_by?: string;
                    layer?: string;
                    metric?: string;
                    /** @description seconds, a multiple of 60; default 60 */
                    step?: number;
                    /** @description default: now */
                    to?: string;
                    workflow_type?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            from: string;
                            group_by: string[];
                            metric: string;
                            series: {
                                labels: {
                                    [key: string]: string;
                                };
                                points: {
                                    avg_ms: number | null;
                                    count: number;
                                    error_count: number;
                                    error_rate: number | null;
                                    max_ms: number | null;
                                    min_ms: number | null;
                                    p50_ms: number | null;
                                    p95_ms: number | null;
                                    p99_ms: number | null;
                                    rate_per_second: number;
                                    time: string;
                                }[];
                            }[];
                            step_seconds: number;
                            to: string;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/system": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Health, readiness and flowscope_* metrics of the query API, the collector (FLOWSCOPE_COLLECTOR_URL) and the alerting worker (FLOWSCOPE_ALERTING_URL), read server-side */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            components: {
                                error: string | null;
                                health: {
                                    detail: string;
                                    ok: boolean;
                                    status: number | null;
                                } | null;
                                /** @enum {string} */
                                name: "query-api" | "collector" | "alerting";
                                ready: {
                                    detail: string;
                                    ok: boolean;
                                    status: number | null;
                                } | null;
                                samples: {
                                    labels: {
                                        [key: string]: string;
                                    };
                                    name: string;
                                    value: number;
                                }[];
                                url: string | null;
                                /** @enum {string} */
                                where: "this process" | "remote" | "not configured";
                            }[];
                            generated_at: string;
                            probe_timeout_ms: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/traces/{traceId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One trace by id: its spans as a tree, time per layer, critical path and ranked suspects */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    traceId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            critical_path: {
                                duration_ms: number;
                                segments: {
                                    component: string | null;
                                    duration_ms: number;
                                    layer: string | null;
                                    name: string | null;
                                    offset_ms: number;
                                    span_id: string | null;
                                    start_time: string;
                                    trace_id: string | null;
                                }[];
                            };
                            layer_breakdown: {
                                layer: string;
                                self_ms: number;
                                share: number;
                                span_count: number;
                            }[];
                            span_count: number;
                            spans: {
                                attributes: {
                                    [key: string]: unknown;
                                };
                                children: {
                                    [key: string]: unknown;
                                }[];
                                component: string;
                                duration_ms: number;
                                end_time: string;
                                events: {
                                    [key: string]: unknown;
                                }[];
                                is_error: boolean;
                                kind: number;
                                layer: string;
                                links: {
                                    [key: string]: unknown;
                                }[];
                                name: string;
                                parent_span_id: string | null;
                                resource: {
                                    [key: string]: unknown;
                                };
                                scope_name: string | null;
                                self_ms: number;
                                span_id: string;
                                start_time: string;
                                status_code: number;
                                status_message: string | null;
                                trace_id: string;
                                user_id: string | null;
                                workflow_id: string;
                                workflow_type: string;
                            }[];
                            suspects: {
                                baseline_p50_ms: number | null;
                                baseline_p95_ms: number | null;
                                component: string;
                                downstream: string | null;
                                duration_ms: number;
                                error_message: string | null;
                                error_type: string | null;
                                excess_ms: number | null;
                                layer: string;
                                on_critical_path: boolean;
                                operation: string;
                                ratio: number | null;
                                /** @enum {string} */
                                reason: "error" | "timeout" | "slow";
                                score: number;
                                self_ms: number;
                                span_id: string;
                                summary: string;
                                trace_id: string;
                            }[];
                            trace_id: string;
                            truncated: boolean;
                            workflow_ids: string[];
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/workflow-stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Runs started in [from, to) (default the last hour) by status, and per workflow type: runs per minute, error rate (failed + timed out), p95 duration */
        get: {
            parameters: {
                query?: {
                    from?: string;
                    to?: string;
                    workflow_type?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            by_status: {
                                [key: string]: number;
                            };
                            by_type: {
                                count: number;
                                error_rate: number;
                                failed: number;
                                p95_ms: number | null;
                                per_minute: number;
                                timed_out: number;
                                workflow_type: string;
                            }[];
                            from: string;
                            to: string;
                            types_truncated: boolean;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/workflows": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Workflow runs, newest first */
        get: {
            parameters: {
                query?: {
                    /** @description started at or after */
                    from?: string;
                    has_errors?: boolean;
                    limit?: number;
                    max_duration_ms?: number;
                    min_duration_ms?: number;
                    offset?: number;
                    /** @description order; `-` for descending */
                    sort?: "-started_at" | "started_at" | "-duration_ms" | "duration_ms" | "-error_count" | "-span_count";
                    status?: "in_progress" | "completed" | "failed" | "timed_out";
                    /** @description started before */
                    to?: string;
                    user_id?: string;
                    workflow_type?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                duration_ms: number | null;
                                ended_at: string;
                                error_count: number;
                                first_trace_id: string | null;
                                span_count: number;
                                started_at: string;
                                status: string;
                                stored: boolean;
                                top_suspect: {
                                    baseline_p50_ms: number | null;
                                    baseline_p95_ms: number | null;
                                    component: string;
                                    downstream: string | null;
                                    duration_ms: number;
                                    error_message: string | null;
                                    error_type: string | null;
                                    excess_ms: number | null;
                                    layer: string;
                                    on_critical_path: boolean;
                                    operation: string;
                                    ratio: number | null;
                                    /** @enum {string} */
                                    reason: "error" | "timeout" | "slow";
                                    score: number;
                                    self_ms: number;
                                    span_id: string;
                                    summary: string;
                                    trace_id: string;
                                } | null;
                                user_id: string | null;
                                workflow_id: string;
                                workflow_type: string;
                            }[];
                            limit: number;
                            offset: number;
                            total: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/debugging/workflows/{workflowId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One workflow run: its spans as a tree, time per layer (self time), critical path and ranked suspects */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    workflowId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            critical_path: {
                                duration_ms: number;
                                segments: {
                                    component: string | null;
                                    duration_ms: number;
                                    layer: string | null;
                                    name: string | null;
                                    offset_ms: number;
                                    span_id: string | null;
                                    start_time: string;
                                    trace_id: string | null;
                                }[];
                            };
                            errors: Record<string, never>[];
                            layer_breakdown: {
                                layer: string;
                                self_ms: number;
                                share: number;
                                span_count: number;
                            }[];
                            span_count: number;
                            spans: {
                                attributes: {
                                    [key: string]: unknown;
                                };
                                children: {
                                    [key: string]: unknown;
                                }[];
                                component: string;
                                duration_ms: number;
                                end_time: string;
                                events: {
                                    [key: string]: unknown;
                                }[];
                                is_error: boolean;
                                kind: number;
                                layer: string;
                                links: {
                                    [key: string]: unknown;
                                }[];
                                name: string;
                                parent_span_id: string | null;
                                resource: {
                                    [key: string]: unknown;
                                };
                                scope_name: string | null;
                                self_ms: number;
                                span_id: string;
                                start_time: string;
                                status_code: number;
                                status_message: string | null;
                                trace_id: string;
                                user_id: string | null;
                                workflow_id: string;
                                workflow_type: string;
                            }[];
                            suspects: {
                                baseline_p50_ms: number | null;
                                baseline_p95_ms: number | null;
                                component: string;
                                downstream: string | null;
                                duration_ms: number;
                                error_message: string | null;
                                error_type: string | null;
                                excess_ms: number | null;
                                layer: string;
                                on_critical_path: boolean;
                                operation: string;
                                ratio: number | null;
                                /** @enum {string} */
                                reason: "error" | "timeout" | "slow";
                                score: number;
                                self_ms: number;
                                span_id: string;
                                summary: string;
                                trace_id: string;
                            }[];
                            truncated: boolean;
                            workflow: {
                                duration_ms: number | null;
                                ended_at: string;
                                error_count: number;
                                first_trace_id: string | null;
                                span_count: number;
                                started_at: string;
                                status: string;
                                stored: boolean;
                                user_id: string | null;
                                workflow_id: string;
                                workflow_type: string;
                            };
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: string;
                            error: string;
                            message: string;
                            statusCode: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jaeger/api/dependencies": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Service dependency links (parent service → child service, call count) in [endTs - lookback, endTs] (ms) */
        get: {
            parameters: {
                query?: {
                    endTs?: number;
                    lookback?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            limit: number;
                            offset: number;
                            total: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jaeger/api/operations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Operations of a service with their span kind */
        get: {
            parameters: {
                query: {
                    service: string;
                    spanKind?: "" | "internal" | "server" | "client" | "producer" | "consumer";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            limit: number;
                            offset: number;
                            total: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jaeger/api/services": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Service names (span components) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            limit: number;
                            offset: number;
                            total: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jaeger/api/services/{service}/operations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Operation names of a service */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    service: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            limit: number;
                            offset: number;
                            total: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jaeger/api/traces": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Search traces (service, operation, tags, duration, time range, limit) */
        get: {
            parameters: {
                query?: {
                    end?: number;
                    limit?: number;
                    lookback?: string;
                    maxDuration?: string;
                    minDuration?: string;
                    operation?: string;
                    service?: string;
                    start?: number;
                    tag?: string | string[];
                    tags?: string;
                    traceID?: string | string[];
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            limit: number;
                            offset: number;
                            total: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jaeger/api/traces/{traceID}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One trace by id */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    traceID: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            limit: number;
                            offset: number;
                            total: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: never;
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
