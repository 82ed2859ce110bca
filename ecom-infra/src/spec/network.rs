//! The network: the VPC's block, its private subnets and who may connect.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::SpecError;

/// An IPv4 CIDR block such as `10.20.0.0/16`, with no host bits set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ipv4Cidr {
    addr: Ipv4Addr,
    prefix: u8,
}

impl Ipv4Cidr {
    /// The network address.
    pub fn addr(self) -> Ipv4Addr {
        self.addr
    }

    /// The prefix length (0 to 32).
    pub fn prefix(self) -> u8 {
        self.prefix
    }

    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        }
    }

    /// Whether `other` lies entirely inside this block.
    pub fn contains(self, other: Ipv4Cidr) -> bool {
        other.prefix >= self.prefix
            && u32::from(other.addr) & Self::mask(self.prefix) == u32::from(self.addr)
    }

    /// Whether the two blocks share an address.
    pub fn overlaps(self, other: Ipv4Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// Whether the block lies in the private ranges of RFC 1918 (10/8, 172.16/12, 192.168/16).
    pub fn is_private(self) -> bool {
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
            .iter()
            .filter_map(|r| r.parse::<Ipv4Cidr>().ok())
            .any(|range| range.contains(self))
    }
}

impl FromStr for Ipv4Cidr {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SpecError::InvalidCidr(s.to_owned());
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if prefix > 32 || u32::from(addr) & !Self::mask(prefix) != 0 {
            return Err(bad());
        }
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl TryFrom<String> for Ipv4Cidr {
    type Error = SpecError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Ipv4Cidr> for String {
    fn from(value: Ipv4Cidr) -> Self {
        value.to_string()
    }
}

/// The VPC: private subnets only (no internet gateway, no public address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// The VPC's block, private (RFC 1918).
    pub vpc_cidr: Ipv4Cidr,
    /// One private subnet per availability zone; at least two zones.
    pub subnets: Vec<SubnetSpec>,
    /// Blocks allowed to connect to the database port (private blocks only).
    pub allowed_cidrs: Vec<Ipv4Cidr>,
    /// Security groups (`sg-...`) allowed to connect, e.g. the service's.
    pub allowed_security_groups: Vec<String>,
}

/// A private subnet in one availability zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetSpec {
    /// e.g. `eu-west-1a`.
    pub availability_zone: String,
    /// Inside the VPC's block.
    pub cidr: Ipv4Cidr,
}
