package org.kvmtool.manager.jmx;

import org.kvmtool.manager.api.testing.FakeDomainDriver;

/** Lets tests in other packages reach the package-private pieces of this one. */
public final class TestAccess {
    private TestAccess() {
    }

    /** Publishes {@code driver} on {@code server} as JmxComponent does; close it to unregister. */
    public static AutoCloseable publish(FakeDomainDriver driver, javax.management.MBeanServer server) {
        DomainMBeans mbeans = new DomainMBeans(driver, server, java.time.Clock.systemUTC(), 1000, 200);
        mbeans.open();
        return mbeans;
    }

    public static void awaitIdle(AutoCloseable published) throws Exception {
        ((DomainMBeans) published).awaitIdle(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    public static FakeDomainDriver driver() {
        return new FakeDomainDriver();
    }

    public static void define(FakeDomainDriver driver, String name) {
        driver.define("<domain type='kvmtool'><name>" + name + "</name></domain>");
    }

    public static void populate(FakeDomainDriver driver, int count, int running) {
        driver.populate(count, running);
    }

    public static boolean isRunning(FakeDomainDriver driver, String name) {
        return driver.lookup(name).orElseThrow().isActive();
    }

    public static void start(FakeDomainDriver driver, String name) {
        driver.start(name);
    }
}
