//! The parts groups with their Korean and English names and whether each
//! depends on the combustion engine (`GET /v1/partsGroups`).

use gearshift_proto::registry::v1 as pb;

/// (group, Korean name, English name)
pub const GROUPS: &[(pb::PartsGroup, &str, &str)] = &[
    (
        pb::PartsGroup::PowertrainEngine,
        "파워트레인·엔진",
        "Powertrain and engine",
    ),
    (
        pb::PartsGroup::TransmissionDriveline,
        "변속기·구동계",
        "Transmission and driveline",
    ),
    (
        pb::PartsGroup::ChassisSuspensionBrakes,
        "섀시·현가·제동",
        "Chassis, suspension and brakes",
    ),
    (
        pb::PartsGroup::BodyExterior,
        "차체·외장",
        "Body and exterior",
    ),
    (
        pb::PartsGroup::InteriorSeats,
        "내장·시트",
        "Interior and seats",
    ),
    (
        pb::PartsGroup::ElectricalElectronics,
        "전기·전자",
        "Electrical and electronics",
    ),
    (
        pb::PartsGroup::BatteryEnergyStorage,
        "배터리·에너지저장",
        "Battery and energy storage",
    ),
    (
        pb::PartsGroup::EmotorInverterPowerElectronics,
        "구동모터·인버터·전력전자",
        "E-motor, inverter and power electronics",
    ),
    (
        pb::PartsGroup::ThermalManagement,
        "열관리",
        "Thermal management",
    ),
    (
        pb::PartsGroup::AdasSensorsLidar,
        "ADAS·센서·라이다",
        "ADAS, sensors and lidar",
    ),
    (
        pb::PartsGroup::InfotainmentConnectivity,
        "인포테인먼트·커넥티비티",
        "Infotainment and connectivity",
    ),
    (
        pb::PartsGroup::HydrogenFuelCell,
        "수소연료전지",
        "Hydrogen fuel cell",
    ),
    (
        pb::PartsGroup::LightweightMaterials,
        "경량소재",
        "Lightweight materials",
    ),
    (pb::PartsGroup::ExhaustSystem, "배기계", "Exhaust system"),
    (pb::PartsGroup::FuelSystem, "연료계", "Fuel system"),
    (pb::PartsGroup::Other, "기타", "Other"),
];

pub fn parts_groups() -> pb::ListPartsGroupsResponse {
    pb::ListPartsGroupsResponse {
        parts_groups: GROUPS
            .iter()
            .map(|(g, ko, en)| pb::PartsGroupInfo {
                parts_group: *g as i32,
                name_ko: ko.to_string(),
                name_en: en.to_string(),
                ice_dependent: crate::supplier::profile::ice_dependent(*g),
            })
            .collect(),
    }
}
