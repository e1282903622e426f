/**
 * The domain XML codec: a hardened StAX reader under a JAXB binding, a validator and a canonical writer.
 * Private to this bundle; other bundles use {@link org.kvmtool.manager.api.DomainXmlCodec}.
 */
@XmlAccessorType(XmlAccessType.FIELD)
package org.kvmtool.manager.xml;

import jakarta.xml.bind.annotation.XmlAccessType;
import jakarta.xml.bind.annotation.XmlAccessorType;
