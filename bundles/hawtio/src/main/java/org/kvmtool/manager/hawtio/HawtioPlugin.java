package org.kvmtool.manager.hawtio;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * Announces the kvmtool tab to Hawtio. Its files (src/main/webapp/plugin) are served by this bundle's own web
 * context (Web-ContextPath: /kvmtool), so Hawtio's war stays untouched and the tab comes and goes with the bundle.
 */
@Component(service = {})
public class HawtioPlugin implements HawtioPluginMBean {
    static final String OBJECT_NAME = "hawtio:type=plugin,name=kvmtool";
    static final String[] SCRIPTS = {"plugin/kvmtool.figures.js", "plugin/kvmtool.service.js",
        "plugin/dashboard.component.js", "plugin/kvmtool.module.js"};

    private final MBeanServer server;
    private final ObjectName name;

    @Activate
    public HawtioPlugin(@Reference MBeanServer server) throws JMException {
        this.server = server;
        this.name = new ObjectName(OBJECT_NAME);
        try {
            server.registerMBean(this, name);
        } catch (InstanceAlreadyExistsException e) {
            // left behind by an earlier instance of this bundle that was not deactivated cleanly
            server.unregisterMBean(name);
            server.registerMBean(this, name);
        }
    }

    @Deactivate
    public void close() throws JMException {
        try {
            server.unregisterMBean(name);
        } catch (InstanceNotFoundException e) {
            // already gone
        }
    }

    @Override
    public String getName() {
        return "kvmtool";
    }

    @Override
    public String getContext() {
        return "/kvmtool";
    }

    @Override
    public String getDomain() {
        return "kvmtool";
    }

    /**
     * Loaded by Hawtio in this order, each from the web context. The template (plugin/dashboard.html) and the
     * style (plugin/kvmtool.css) are no scripts: the component and the module fetch them from the same place.
     */
    @Override
    public String[] getScripts() {
        return SCRIPTS.clone();
    }
}
