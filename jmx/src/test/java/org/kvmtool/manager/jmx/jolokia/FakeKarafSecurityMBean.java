package org.kvmtool.manager.jmx.jolokia;

/** The two canInvoke methods of Karaf's JMXSecurityMBean that the restrictor calls. */
public interface FakeKarafSecurityMBean {
    boolean canInvoke(String objectName, String methodName) throws Exception;

    boolean canInvoke(String objectName, String methodName, String[] argumentTypes) throws Exception;
}
