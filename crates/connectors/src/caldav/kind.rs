/// What differs between CalDAV and CardDAV; everything else is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Cal,
    Card,
}

impl Kind {
    pub fn namespace(self) -> &'static str {
        match self {
            Kind::Cal => "urn:ietf:params:xml:ns:caldav",
            Kind::Card => "urn:ietf:params:xml:ns:carddav",
        }
    }
    pub fn well_known(self) -> &'static str {
        match self {
            Kind::Cal => "/.well-known/caldav",
            Kind::Card => "/.well-known/carddav",
        }
    }
    pub fn home_set(self) -> &'static str {
        match self {
            Kind::Cal => "calendar-home-set",
            Kind::Card => "addressbook-home-set",
        }
    }
    /// The resourcetype child that marks a collection of this kind.
    pub fn collection(self) -> &'static str {
        match self {
            Kind::Cal => "calendar",
            Kind::Card => "addressbook",
        }
    }
    pub fn data(self) -> &'static str {
        match self {
            Kind::Cal => "calendar-data",
            Kind::Card => "address-data",
        }
    }
    pub fn multiget(self) -> &'static str {
        match self {
            Kind::Cal => "calendar-multiget",
            Kind::Card => "addressbook-multiget",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Cal => "ics",
            Kind::Card => "vcf",
        }
    }
    pub fn media_type(self) -> &'static str {
        match self {
            Kind::Cal => "text/calendar; charset=utf-8",
            Kind::Card => "text/vcard; charset=utf-8",
        }
    }
}
