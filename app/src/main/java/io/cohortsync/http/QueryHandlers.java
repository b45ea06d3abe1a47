package io.cohortsync.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.membership.MembershipTopology;
import io.cohortsync.membership.ProfileSegmentsTopology;
import io.javalin.http.Context;
import org.apache.kafka.streams.state.HostInfo;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.IntFunction;

/**
 * The read-only queries. Any instance answers for any key: it reads its own partition, or forwards the request
 * (with the hop header) to the instance that owns the key, which answers from its own state only. Listing an
 * account's segments asks every instance for its partitions and checks that every partition answered exactly
 * once; otherwise (a rebalance moved something) the answer is a retryable 503, never a partial list.
 */
final class QueryHandlers {

    static final int DEFAULT_PAGE = 100;
    static final int MAX_PAGE = 1000;

    private final StoreLocator locator;
    private final LocalQueries local;
    private final Forwarder forwarder;
    private final Set<String> accounts;
    private final int segmentPartitions;

    QueryHandlers(final StoreLocator locator, final Forwarder forwarder, final Set<String> accounts,
                  final int segmentPartitions) {
        this.locator = locator;
        this.local = new LocalQueries(locator);
        this.forwarder = forwarder;
        this.accounts = accounts;
        this.segmentPartitions = segmentPartitions;
    }

    /** {@code GET /accounts/{accountId}/segments}. */
    void segments(final Context ctx) {
        final String accountId = account(ctx);
        locator.requireRunning();
        if (Forwarder.isHop(ctx)) {
            Json.write(ctx, 200, local.segments(accountId));
            return;
        }
        final List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
        for (final HostInfo host : locator.instances()) {
            answers.add(host.equals(locator.self())
                ? CompletableFuture.completedFuture(Json.tree(local.segments(accountId)))
                : forwarder.getAsync(host, pathAndQuery(ctx)));
        }
        Json.write(ctx, 200, merged(accountId, answers));
    }

    /** {@code GET /accounts/{accountId}/segments/{cohortId}}. */
    void segment(final Context ctx) {
        final String accountId = account(ctx);
        final String cohortId = ctx.pathParam("cohortId");
        answerFromOwner(ctx, MembershipTopology.SEGMENTS_STORE, accountId + "|" + cohortId,
            partition -> local.segment(accountId, cohortId, partition));
    }

    /** {@code GET /accounts/{accountId}/segments/{cohortId}/members?limit=&after=}. */
    void members(final Context ctx) {
        final String accountId = account(ctx);
        final String cohortId = ctx.pathParam("cohortId");
        final int limit = limit(ctx);
        final String after = ctx.queryParam("after");
        answerFromOwner(ctx, MembershipTopology.SEGMENTS_STORE, accountId + "|" + cohortId,
            partition -> local.members(accountId, cohortId, after == null || after.isEmpty() ? null : after, limit,
                partition));
    }

    /** {@code GET /accounts/{accountId}/profiles/{objectId}/segments}. */
    void profileSegments(final Context ctx) {
        final String accountId = account(ctx);
        final String objectId = ctx.pathParam("objectId");
        answerFromOwner(ctx, ProfileSegmentsTopology.STORE, accountId + "|" + objectId,
            partition -> local.profileSegments(accountId, objectId, partition));
    }

    /**
     * {@code GET /accounts/{accountId}/profiles/{objectId}}: the profile and its segments. They live in two stores
     * that may be owned by two instances; each part comes from its owner. With the hop header: the profile only.
     */
    void profile(final Context ctx) {
        final String accountId = account(ctx);
        final String objectId = ctx.pathParam("objectId");
        final String key = accountId + "|" + objectId;
        final JsonNode profile = fromOwner(ctx, IdentityTopology.PROFILES_STORE, key, ctx.path(),
            partition -> local.profile(accountId, objectId, partition));
        if (Forwarder.isHop(ctx)) {
            Json.write(ctx, 200, profile);
            return;
        }
        final JsonNode segments = fromOwner(ctx, ProfileSegmentsTopology.STORE, key, ctx.path() + "/segments",
            partition -> local.profileSegments(accountId, objectId, partition));
        ((ObjectNode) profile).set("segments", segments.path("segments"));
        Json.write(ctx, 200, profile);
    }

    private void answerFromOwner(final Context ctx, final String store, final String key,
                                 final IntFunction<Map<String, Object>> read) {
        Json.write(ctx, 200, fromOwner(ctx, store, key, pathAndQuery(ctx), read));
    }

    /** The owner's answer: read here if this instance owns the key, else asked of the owner. */
    private JsonNode fromOwner(final Context ctx, final String store, final String key, final String pathAndQuery,
                               final IntFunction<Map<String, Object>> read) {
        final StoreLocator.Owner owner = locator.owner(store, key);
        if (owner.local()) {
            return Json.tree(read.apply(owner.partition()));
        }
        if (Forwarder.isHop(ctx)) {
            // We were asked because the caller thinks we own it; we think we don't: ownership is moving.
            throw HttpError.unavailable("this data is moving between instances (a rebalance); retry shortly");
        }
        return forwarder.get(owner.host(), pathAndQuery);
    }

    private Map<String, Object> merged(final String accountId, final List<CompletableFuture<JsonNode>> answers) {
        final Set<Integer> answered = new TreeSet<>();
        final List<JsonNode> segments = new ArrayList<>();
        for (final CompletableFuture<JsonNode> answer : answers) {
            final JsonNode part = join(answer);
            for (final JsonNode partition : part.path("partitions")) {
                if (!answered.add(partition.asInt())) {
                    throw HttpError.unavailable("two instances both answered for partition " + partition.asInt()
                        + " (a rebalance is in progress); retry shortly");
                }
            }
            part.path("segments").forEach(segments::add);
        }
        if (answered.size() != segmentPartitions) {
            throw HttpError.unavailable("only partitions " + answered + " of " + segmentPartitions + " answered (a "
                + "rebalance or restore is in progress); retry shortly");
        }
        segments.sort(Comparator.comparing(segment -> segment.path("cohortId").asText()));
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("accountId", accountId);
        body.put("segments", segments);
        return body;
    }

    private static JsonNode join(final CompletableFuture<JsonNode> answer) {
        try {
            return answer.join();
        } catch (final CompletionException e) {
            throw e.getCause() instanceof HttpError error ? error : HttpError.unavailable(String.valueOf(e.getCause()));
        }
    }

    private String account(final Context ctx) {
        final String accountId = ctx.pathParam("accountId");
        if (!accounts.contains(accountId)) {
            throw HttpError.notFound("unknown account '" + accountId + "'");
        }
        return accountId;
    }

    private static int limit(final Context ctx) {
        final String raw = ctx.queryParam("limit");
        if (raw == null || raw.isBlank()) {
            return DEFAULT_PAGE;
        }
        try {
            final int limit = Integer.parseInt(raw.trim());
            if (limit >= 1 && limit <= MAX_PAGE) {
                return limit;
            }
        } catch (final NumberFormatException e) {
            // reported below
        }
        throw HttpError.badRequest("limit must be a whole number from 1 to " + MAX_PAGE + ", got '" + raw + "'",
            "limit");
    }

    private static String pathAndQuery(final Context ctx) {
        final String query = ctx.queryString();
        return query == null || query.isEmpty() ? ctx.path() : ctx.path() + "?" + query;
    }
}
