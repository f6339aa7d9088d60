package org.elasticsearch.node;

import java.util.Collection;

import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.MockPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsService;

/**
 * A node whose plugins are classes on the classpath, not a distribution's modules folder.
 * In Node's package because the constructor it needs is package-private. Unlike the test
 * framework's MockNode it does not load ESTestCase (whose bootstrap refuses to run as root).
 */
public final class ClasspathNode extends Node {

    public ClasspathNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(NodeConstruction.prepareConstruction(environment, new NodeServiceProvider() {
            @Override
            PluginsService newPluginService(Environment env, org.elasticsearch.common.settings.Settings settings) {
                return new MockPluginsService(settings, env, plugins);
            }
        }, true));
    }

    @Override
    protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {
        // that listener only feeds node and cluster ids to the log layout of the distribution
    }
}
