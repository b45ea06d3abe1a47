package io.cohortsync.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Expands {@code ${ENV}} and {@code ${ENV:-default}} in the {@code accounts} section, like every other file value,
 * so secrets such as webhook passcodes can come from the environment instead of the file.
 */
final class AccountPlaceholders {

    private AccountPlaceholders() {
    }

    static JsonNode expand(final ConfigLayers layers) {
        final JsonNode accounts = layers.accounts();
        return accounts == null ? null : expand(layers, accounts.deepCopy(), "accounts");
    }

    private static JsonNode expand(final ConfigLayers layers, final JsonNode node, final String where) {
        if (node.isTextual()) {
            return TextNode.valueOf(layers.expand(node.asText(), "config key " + where));
        }
        if (node.isObject()) {
            final ObjectNode object = (ObjectNode) node;
            final List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            names.forEach(name -> object.set(name, expand(layers, object.get(name), where + "." + name)));
        } else if (node.isArray()) {
            final ArrayNode array = (ArrayNode) node;
            for (int i = 0; i < array.size(); i++) {
                array.set(i, expand(layers, array.get(i), where + "[" + i + "]"));
            }
        }
        return node;
    }
}
