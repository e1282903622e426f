package org.kvmtool.manager.jmx;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.ImmutableDescriptor;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanException;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.NotificationEmitter;
import javax.management.ReflectionException;
import javax.management.StandardEmitterMBean;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;

/**
 * An MXBean that emits notifications, with the contract's descriptions and parameter names (JConsole would
 * show p0, p1 otherwise), plus what the MXBean rules cannot express: an operation named like a setter
 * (setMemory would become a write-only attribute "Memory") and an attribute of a given CompositeType (an
 * MXBean maps a CompositeData getter as a bean).
 */
final class ContractMBean<T> extends StandardEmitterMBean {
    private final Descriptions descriptions;
    private final List<ExtraOperation> extraOperations;
    private final List<ExtraAttribute> extraAttributes;
    private volatile MBeanInfo info;

    ContractMBean(T implementation, Class<T> mxbeanInterface, NotificationEmitter emitter, Descriptions descriptions,
                  List<ExtraOperation> extraOperations, List<ExtraAttribute> extraAttributes) {
        super(implementation, mxbeanInterface, true, emitter);
        this.descriptions = descriptions;
        this.extraOperations = List.copyOf(extraOperations);
        this.extraAttributes = List.copyOf(extraAttributes);
    }

    /** Texts for the MBeanInfo, by attribute and operation name; parameter names by operation. */
    record Descriptions(String bean, Map<String, String> attributes, Map<String, String> operations,
                        Map<String, List<String>> parameterNames, Set<String> infoOperations) {
    }

    /** An operation invoked with open values. */
    record ExtraOperation(MBeanOperationInfo info, Function<Object[], Object> body) {
        /** {@code void name(long parameter)}. */
        static ExtraOperation voidOfLong(String name, String description, String parameter,
                                         String parameterDescription, LongConsumer body) {
            MBeanParameterInfo p = new MBeanParameterInfo(parameter, "long", parameterDescription,
                    openDescriptor(SimpleType.LONG, "long"));
            MBeanOperationInfo op = new MBeanOperationInfo(name, description, new MBeanParameterInfo[] {p}, "void",
                    MBeanOperationInfo.ACTION, openDescriptor(SimpleType.VOID, "void"));
            return new ExtraOperation(op, params -> {
                body.accept((Long) params[0]);
                return null;
            });
        }

        boolean matches(String action, Object[] params, String[] signature) {
            MBeanParameterInfo[] declared = info.getSignature();
            int given = params == null ? 0 : params.length;
            if (!info.getName().equals(action) || given != declared.length) {
                return false;
            }
            if (signature == null) {
                return true;
            }
            String[] types = Arrays.stream(declared).map(MBeanParameterInfo::getType).toArray(String[]::new);
            String[] boxed = Arrays.stream(types).map(t -> "long".equals(t) ? Long.class.getName() : t)
                    .toArray(String[]::new);
            return Arrays.equals(types, signature) || Arrays.equals(boxed, signature);
        }
    }

    /** A read-only attribute whose value is already open data of {@code type}. */
    record ExtraAttribute(MBeanAttributeInfo info, Supplier<Object> value) {
        static ExtraAttribute readOnly(String name, OpenType<?> type, String description, Supplier<Object> value) {
            return new ExtraAttribute(new MBeanAttributeInfo(name, type.getClassName(), description, true, false,
                    false, openDescriptor(type, type.getClassName())), value);
        }
    }

    private static ImmutableDescriptor openDescriptor(OpenType<?> type, String originalType) {
        return new ImmutableDescriptor(new String[] {"openType", "originalType"}, new Object[] {type, originalType});
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        MBeanInfo cached = info;
        if (cached == null) {
            MBeanInfo base = super.getMBeanInfo();
            cached = new MBeanInfo(base.getClassName(), base.getDescription(),
                    concat(base.getAttributes(), extraAttributes.stream().map(ExtraAttribute::info),
                            MBeanAttributeInfo[]::new),
                    base.getConstructors(),
                    concat(base.getOperations(), extraOperations.stream().map(ExtraOperation::info),
                            MBeanOperationInfo[]::new),
                    base.getNotifications(), base.getDescriptor());
            info = cached;
        }
        return cached;
    }

    private static <I> I[] concat(I[] base, java.util.stream.Stream<I> extra,
                                  java.util.function.IntFunction<I[]> array) {
        return java.util.stream.Stream.concat(Arrays.stream(base), extra).toArray(array);
    }

    @Override
    public Object getAttribute(String attribute)
            throws AttributeNotFoundException, MBeanException, ReflectionException {
        for (ExtraAttribute extra : extraAttributes) {
            if (extra.info().getName().equals(attribute)) {
                return extra.value().get();
            }
        }
        return super.getAttribute(attribute);
    }

    @Override
    public AttributeList getAttributes(String[] attributes) {
        AttributeList list = new AttributeList(attributes.length);
        for (String name : attributes) {
            try {
                list.add(new Attribute(name, getAttribute(name)));
            } catch (Exception e) {
                // as StandardMBean does: an attribute that cannot be read is left out
            }
        }
        return list;
    }

    @Override
    public Object invoke(String action, Object[] params, String[] signature)
            throws MBeanException, ReflectionException {
        for (ExtraOperation extra : extraOperations) {
            if (extra.matches(action, params, signature)) {
                return extra.body().apply(params);
            }
        }
        return super.invoke(action, params, signature);
    }

    @Override
    protected String getDescription(MBeanInfo info) {
        return descriptions.bean();
    }

    @Override
    protected String getDescription(MBeanAttributeInfo info) {
        return descriptions.attributes().getOrDefault(info.getName(), info.getDescription());
    }

    @Override
    protected String getDescription(MBeanOperationInfo info) {
        return descriptions.operations().getOrDefault(info.getName(), info.getDescription());
    }

    @Override
    protected String getParameterName(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
        List<String> names = descriptions.parameterNames().get(op.getName());
        return names != null && sequence < names.size() ? names.get(sequence) : param.getName();
    }

    @Override
    protected int getImpact(MBeanOperationInfo info) {
        return descriptions.infoOperations().contains(info.getName()) ? MBeanOperationInfo.INFO
                : MBeanOperationInfo.ACTION;
    }
}
