-- One database per service: each service owns its data and its migrations.
CREATE DATABASE registry OWNER gearshift;
CREATE DATABASE support OWNER gearshift;
CREATE DATABASE financing OWNER gearshift;
CREATE DATABASE training OWNER gearshift;
CREATE DATABASE gateway OWNER gearshift;
