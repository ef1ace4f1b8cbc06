//! The services' gRPC APIs called directly, as another service would: the
//! principal is required and checked where the data is.

use crate::common::*;
use gearshift_platform::engine_tests;
use gearshift_platform::principal::{METADATA_KEY, PrincipalKey};
use gearshift_platform::{Principal, Role};
use gearshift_proto::registry::v1 as pb;
use pb::supplier_registry_client::SupplierRegistryClient;

engine_tests!(
    a_call_without_a_valid_principal_is_unauthenticated,
    a_signed_principal_reaches_the_registry_directly,
    batch_get_returns_suppliers_in_the_order_asked,
    eligibility_reports_each_rule_with_a_reason,
    a_call_past_its_deadline_is_cut_off_and_writes_nothing,
);

async fn client(app: &TestApp) -> SupplierRegistryClient<tonic::transport::Channel> {
    SupplierRegistryClient::connect(format!("http://{}", app.registry_addr))
        .await
        .unwrap()
}

fn signed<T>(message: T, key: &PrincipalKey, role: Role) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let token = key.sign(&Principal {
        subject: "key_direct".into(),
        role,
    });
    request
        .metadata_mut()
        .insert(METADATA_KEY, token.parse().unwrap());
    request
}

async fn a_call_without_a_valid_principal_is_unauthenticated(engine: Engine) {
    let app = spawn_app(engine).await;
    let mut registry = client(&app).await;

    let anonymous = registry
        .list_suppliers(pb::ListSuppliersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);

    let forged_key = PrincipalKey::new(&[1u8; 32]).unwrap();
    let forged = registry
        .create_supplier(signed(
            pb::CreateSupplierRequest {
                supplier: Some(pb::Supplier {
                    business_number: KIA.into(),
                    legal_name: "x".into(),
                    ..Default::default()
                }),
            },
            &forged_key,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), tonic::Code::Unauthenticated);

    let mut garbage = tonic::Request::new(pb::ListSuppliersRequest::default());
    garbage
        .metadata_mut()
        .insert(METADATA_KEY, "v1.e30.AAAA".parse().unwrap());
    assert_eq!(
        registry.list_suppliers(garbage).await.unwrap_err().code(),
        tonic::Code::Unauthenticated
    );
}

async fn a_signed_principal_reaches_the_registry_directly(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = PrincipalKey::load_or_create(None, &app.data_dir).unwrap();
    let mut registry = client(&app).await;

    let created = registry
        .create_supplier(signed(
            pb::CreateSupplierRequest {
                supplier: Some(pb::Supplier {
                    business_number: "1198102316".into(),
                    legal_name: "기아".into(),
                    ..Default::default()
                }),
            },
            &key,
            Role::Operator,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.business_number, KIA);
    assert_eq!(
        created.status,
        pb::SupplierStatus::PendingVerification as i32
    );

    let denied = registry
        .create_supplier(signed(
            pb::CreateSupplierRequest {
                supplier: Some(created.clone()),
            },
            &key,
            Role::Institute("KATECH".into()),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);

    let bad = registry
        .create_supplier(signed(
            pb::CreateSupplierRequest {
                supplier: Some(pb::Supplier {
                    business_number: "1".into(),
                    ..Default::default()
                }),
            },
            &key,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    use tonic_types::StatusExt;
    let fields: Vec<String> = bad
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert_eq!(fields, ["supplier.businessNumber", "supplier.legalName"]);
}

async fn batch_get_returns_suppliers_in_the_order_asked(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = PrincipalKey::load_or_create(None, &app.data_dir).unwrap();
    let mut registry = client(&app).await;
    let a = app.create_supplier(KIA, "기아").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.create_supplier(LG, "LG전자").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let got = registry
        .batch_get_suppliers(signed(
            pb::BatchGetSuppliersRequest {
                ids: vec![b.clone(), a.clone()],
            },
            &key,
            Role::Institute("KETI".into()),
        ))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = got.suppliers.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, [b.clone(), a.clone()]);

    let missing = registry
        .batch_get_suppliers(signed(
            pb::BatchGetSuppliersRequest {
                ids: vec![a.clone(), "sup_00000000000000000000000000".into()],
            },
            &key,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);

    let too_many = registry
        .batch_get_suppliers(signed(
            pb::BatchGetSuppliersRequest {
                ids: vec![a.clone(); 501],
            },
            &key,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), tonic::Code::InvalidArgument);

    // A company's principal gets only its own record.
    let own = registry
        .batch_get_suppliers(signed(
            pb::BatchGetSuppliersRequest {
                ids: vec![a.clone(), b.clone()],
            },
            &key,
            Role::Supplier(a.clone()),
        ))
        .await
        .unwrap_err();
    assert_eq!(own.code(), tonic::Code::NotFound);
}

async fn eligibility_reports_each_rule_with_a_reason(engine: Engine) {
    use pb::eligibility_rule::Rule;
    let app = spawn_app(engine).await;
    let key = PrincipalKey::load_or_create(None, &app.data_dir).unwrap();
    let mut registry = client(&app).await;
    let r = app
        .post(
            "/v1/suppliers",
            &app.admin_key,
            serde_json::json!({"businessNumber": KIA, "legalName": "기아부품", "sme": true,
                "employeeCount": 120, "address": {"line": "광주 광산구", "region": "GWANGJU_GWANGSAN_GU"},
                "partsGroups": ["TRANSMISSION_DRIVELINE"], "primaryPartsGroup": "TRANSMISSION_DRIVELINE"}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let rules = |list: Vec<Rule>| -> Vec<pb::EligibilityRule> {
        list.into_iter()
            .map(|r| pb::EligibilityRule { rule: Some(r) })
            .collect()
    };
    let ask = |rules: Vec<pb::EligibilityRule>, role: Role| {
        signed(
            pb::CheckEligibilityRequest {
                supplier_id: id.clone(),
                rules,
            },
            &key,
            role,
        )
    };

    let answer = registry
        .check_eligibility(ask(
            rules(vec![
                Rule::Local(true),
                Rule::Sme(true),
                Rule::EmployeeCount(pb::EmployeeRange {
                    min: Some(10),
                    max: Some(300),
                }),
                Rule::Active(true),
                Rule::MinStage(pb::TransitionStage::Exploring as i32),
                Rule::PartsGroupIn(pb::PartsGroupSet {
                    groups: vec![pb::PartsGroup::BatteryEnergyStorage as i32],
                }),
            ]),
            Role::Reviewer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!answer.eligible);
    let summary: Vec<(&str, bool)> = answer
        .results
        .iter()
        .map(|r| (r.rule.as_str(), r.passed))
        .collect();
    assert_eq!(
        summary,
        [
            ("local", true),
            ("sme", true),
            ("employeeCount", true),
            ("active", false),
            ("minStage", false),
            ("partsGroupIn", false),
        ]
    );
    assert_eq!(answer.results[3].reason, "status is PENDING_VERIFICATION");
    assert_eq!(
        answer.results[4].reason,
        "stage ICE_DEPENDENT is below EXPLORING"
    );

    app.post(
        &format!("/v1/suppliers/{id}:verify"),
        &app.admin_key,
        serde_json::json!({}),
    )
    .await;
    let now = registry
        .check_eligibility(ask(
            rules(vec![Rule::Active(true), Rule::Local(true)]),
            Role::Supplier(id.clone()),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(now.eligible, "{:?}", now.results);

    let other = app.create_supplier(LG, "LG").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hidden = registry
        .check_eligibility(ask(rules(vec![Rule::Active(true)]), Role::Supplier(other)))
        .await
        .unwrap_err();
    assert_eq!(
        hidden.code(),
        tonic::Code::NotFound,
        "a company checks only itself"
    );
    let empty = registry
        .check_eligibility(ask(vec![], Role::Operator))
        .await
        .unwrap_err();
    assert_eq!(empty.code(), tonic::Code::InvalidArgument);
    let unknown = registry
        .check_eligibility(signed(
            pb::CheckEligibilityRequest {
                supplier_id: "sup_00000000000000000000000000".into(),
                rules: rules(vec![Rule::Active(true)]),
            },
            &key,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
}

/// Holds the suppliers table locked from another connection, so a write
/// waits; a call with a short deadline then ends with DEADLINE_EXCEEDED,
/// and its transaction is rolled back rather than finishing later.
async fn a_call_past_its_deadline_is_cut_off_and_writes_nothing(engine: Engine) {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let mut args = test_args(engine, dir.path()).await;
    args.gateway.request_timeout = std::time::Duration::from_millis(300);
    let url = args.registry.database_url.clone().unwrap();
    let app = spawn_with(args, dir).await;
    let key = PrincipalKey::load_or_create(None, &app.data_dir).unwrap();
    let mut registry = client(&app).await;

    sqlx::any::install_default_drivers();
    let mut blocker = sqlx::AnyConnection::connect(&url).await.unwrap();
    let lock = match engine {
        Engine::Sqlite => "BEGIN IMMEDIATE",
        Engine::Postgres => "BEGIN",
    };
    sqlx::raw_sql(lock).execute(&mut blocker).await.unwrap();
    if engine == Engine::Postgres {
        sqlx::raw_sql("LOCK TABLE suppliers IN EXCLUSIVE MODE")
            .execute(&mut blocker)
            .await
            .unwrap();
    }

    let mut request = signed(
        pb::CreateSupplierRequest {
            supplier: Some(pb::Supplier {
                business_number: NAVER.into(),
                legal_name: "네이버".into(),
                ..Default::default()
            }),
        },
        &key,
        Role::Operator,
    );
    request.set_timeout(std::time::Duration::from_millis(300));
    let cut = registry.create_supplier(request).await.unwrap_err();
    // tonic reports its own deadline as CANCELLED "Timeout expired"
    // (whichever side noticed first); either way the call is cut off.
    assert!(
        matches!(
            cut.code(),
            tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
        ),
        "{cut:?}"
    );

    // Through the gateway the same deadline is a 504.
    app.post(
        "/v1/suppliers",
        &app.admin_key,
        serde_json::json!({"businessNumber": KAKAO, "legalName": "카카오"}),
    )
    .await
    .assert_problem(504, "DEADLINE_EXCEEDED");
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut blocker)
        .await
        .unwrap();

    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let list = app.get("/v1/suppliers", &app.admin_key).await;
    assert_eq!(
        list.body["suppliers"].as_array().map(Vec::len),
        Some(0),
        "the cut-off call left nothing behind: {}",
        list.text
    );
}

/// Generic clients find the services by reflection, whichever version they
/// speak: v1 (grpcurl, current tools) and v1alpha (Python's
/// grpcio-reflection, older grpcurl, IDE plugins).
#[tokio::test]
async fn reflection_lists_the_services_in_both_protocol_versions() {
    use tonic_reflection::pb::{v1, v1alpha};
    let app = spawn_app(Engine::Sqlite).await;
    let url = format!("http://{}", app.registry_addr);

    let channel = tonic::transport::Channel::from_shared(url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let ask = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut answers = client
        .server_reflection_info(futures_util::stream::iter([ask]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answer.message_response
    else {
        panic!("v1 answered {answer:?}")
    };
    let v1_names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();

    let mut client = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let ask = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut answers = client
        .server_reflection_info(futures_util::stream::iter([ask]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answer.message_response
    else {
        panic!("v1alpha answered {answer:?}")
    };
    let v1alpha_names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();

    for names in [&v1_names, &v1alpha_names] {
        for wanted in [
            "gearshift.registry.v1.SupplierRegistry",
            "gearshift.registry.v1.InstituteDirectory",
            "grpc.health.v1.Health",
        ] {
            assert!(names.iter().any(|n| n == wanted), "{wanted} in {names:?}");
        }
    }
}
